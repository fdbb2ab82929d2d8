"""Baseline for the Ames house prices: ridge regression on the numeric columns.

Trains on data/housePrice/train.csv, reports R^2 on validation.csv and writes submission.csv with
a SalePrice for every Id of validation.csv and test.csv.
"""
import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

DATA = "data/housePrice"

train = pd.read_csv(f"{DATA}/train.csv")
validation = pd.read_csv(f"{DATA}/validation.csv")
test = pd.read_csv(f"{DATA}/test.csv")

features = [c for c in train.columns if c not in ("Id", "SalePrice") and pd.api.types.is_numeric_dtype(train[c])]
model = make_pipeline(StandardScaler(), Ridge(alpha=10.0))
model.fit(train[features], train["SalePrice"])

print(f"validation R^2: {r2_score(validation['SalePrice'], model.predict(validation[features])):.4f}")
both = pd.concat([validation, test], ignore_index=True)
submission = pd.DataFrame({"Id": both["Id"], "SalePrice": np.asarray(model.predict(both[features]))})
submission.to_csv("submission.csv", index=False)
print(f"wrote submission.csv ({len(submission)} rows)")
