"""Baseline for house prices, as MLGym's: ridge regression (alpha 0.1) on the raw SalePrice.

Numeric columns: mean imputation, then standardisation; text columns: the constant "missing" for
blanks, then one-hot encoding (levels unseen in training ignored). Fitted on data/housePrice/train.csv
only; prints RMSE and R^2 on validation.csv and writes submission.csv with a SalePrice for every Id of
validation.csv and test.csv. Deterministic (no randomness).
"""
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error, r2_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

DATA = "data/housePrice"


def features(table):
    return table.drop(columns=[c for c in ("Id", "SalePrice") if c in table.columns])


def model_for(columns):
    numeric = columns.select_dtypes(include=["int64", "float64"]).columns
    text = columns.select_dtypes(include=["object"]).columns
    prepare = ColumnTransformer([
        ("numeric", make_pipeline(SimpleImputer(strategy="mean"), StandardScaler()), numeric),
        ("text", make_pipeline(SimpleImputer(strategy="constant", fill_value="missing"),
                               OneHotEncoder(handle_unknown="ignore")), text),
    ], sparse_threshold=0)  # dense: Ridge then solves exactly, not with sparse_cg's tolerance-dependent answer
    return make_pipeline(prepare, Ridge(alpha=0.1))


def main():
    train = pd.read_csv(f"{DATA}/train.csv")
    validation = pd.read_csv(f"{DATA}/validation.csv")
    test = pd.read_csv(f"{DATA}/test.csv")
    model = model_for(features(train))
    model.fit(features(train), train["SalePrice"])
    predicted = model.predict(features(validation))
    rmse = np.sqrt(mean_squared_error(validation["SalePrice"], predicted))
    print(f"validation RMSE {rmse:.2f}, R^2 {r2_score(validation['SalePrice'], predicted):.6f}")
    both = pd.concat([validation, test], ignore_index=True)
    submission = pd.DataFrame({"Id": both["Id"], "SalePrice": model.predict(features(both))})
    submission.to_csv("submission.csv", index=False)
    print(f"wrote submission.csv ({len(submission)} rows)")


if __name__ == "__main__":
    main()
