"""Import Kaggle's House Prices train.csv, the data MLGym's regressionKaggleHousePrice uses.

Run by `mlgym prepare regressionKaggleHousePrice --from <train.csv or its folder>` in the task's image
(docs/tasks.md, "Importing a user's copy of the original data"):
    python3 import_original.py SOURCE TASK_DIR DATA_ROOT PRIVATE_ROOT
SOURCE is Kaggle's train.csv ("House Prices - Advanced Regression Techniques": 1,460 houses, Id, 79
features and SalePrice) or a folder holding it. It is split as MLGym splits it: 20% test, then 12.5%
of the rest validation, both with scikit-learn's train_test_split and seed 42, giving train 1,022,
validation 146 and test 292 houses in MLGym's row order. Writes DATA_ROOT/housePrice/{train,
validation,test}.csv (test without SalePrice), README.txt and IMPORTED.txt (which keeps
scripts/prepare-data.sh from putting the offline Ames data back), and TASK_DIR/answers.csv (the
validation and test prices, for the grader). Bad input exits with status 2 and a message naming the
file and what was expected.
"""
import hashlib
import os
import sys

import pandas as pd
from sklearn.model_selection import train_test_split

ROWS, COLUMNS = 1460, 81
SEED = 42
# The copy on which our baseline reproduced MLGym's recorded score (docs/tasks/regressionKaggleHousePrice.md).
KNOWN_SHA256 = "1e18addf81e5e4d347cc17ee6075bbe4a42b7fa26b9e5b063e8f692a5f929d41"
# A few of Kaggle's column names, to tell its train.csv from other Ames tables.
KAGGLE_COLUMNS = ("MSSubClass", "OverallQual", "GrLivArea", "YearBuilt", "Neighborhood")


def bad_input(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def source_file(source, shown):
    if os.path.isdir(source):
        path = os.path.join(source, "train.csv")
        if not os.path.isfile(path):
            bad_input(f"{shown} is a folder without train.csv; expected Kaggle's House Prices train.csv or its folder")
        return path, os.path.join(shown, "train.csv")
    return source, shown


def read_table(path, shown):
    try:
        table = pd.read_csv(path)
    except Exception as exc:  # pandas raises many kinds for a file that is not a CSV
        bad_input(f"{shown} is not a readable CSV file ({type(exc).__name__}: {str(exc)[:200]}); expected Kaggle's House "
                  "Prices train.csv")
    missing = [c for c in ("Id", "SalePrice", *KAGGLE_COLUMNS) if c not in table.columns]
    if missing:
        bad_input(f"{shown} lacks the columns {', '.join(missing)}; expected Kaggle's House Prices train.csv "
                  f"(Id, 79 features, SalePrice), found {', '.join(map(str, table.columns[:6]))}...")
    if table.shape != (ROWS, COLUMNS):
        bad_input(f"{shown} has {table.shape[0]} rows and {table.shape[1]} columns; Kaggle's House Prices train.csv "
                  f"has {ROWS} rows and {COLUMNS} columns (test.csv, without SalePrice, is not the file to import)")
    if not pd.api.types.is_integer_dtype(table["Id"]) or table["Id"].duplicated().any():
        bad_input(f"{shown}: the Id column must hold distinct integers")
    prices = pd.to_numeric(table["SalePrice"], errors="coerce")
    if prices.isna().any() or (prices <= 0).any():
        bad_input(f"{shown}: every SalePrice must be a positive number")
    return table


def mlgym_split(table):
    rest, test = train_test_split(table, test_size=0.2, random_state=SEED)
    train, validation = train_test_split(rest, test_size=0.125, random_state=SEED)
    return train, validation, test


def write(train, validation, test, data_dir, task_dir, digest):
    os.makedirs(data_dir, exist_ok=True)
    train.to_csv(os.path.join(data_dir, "train.csv"), index=False)
    validation.to_csv(os.path.join(data_dir, "validation.csv"), index=False)
    test.drop(columns=["SalePrice"]).to_csv(os.path.join(data_dir, "test.csv"), index=False)
    answers = pd.concat([validation[["Id", "SalePrice"]].assign(split="validation"),
                         test[["Id", "SalePrice"]].assign(split="test")])
    answers.to_csv(os.path.join(task_dir, "answers.csv"), index=False)
    with open(os.path.join(data_dir, "README.txt"), "w") as f:
        f.write("Kaggle's House Prices train.csv (Ames, Iowa; Dean De Cock's data as prepared for the Kaggle competition\n"
                "'House Prices - Advanced Regression Techniques'), imported from the user's copy. Split as MLGym does:\n"
                f"train {len(train)}, validation {len(validation)}, test {len(test)} houses; test.csv has no SalePrice.\n")
    with open(os.path.join(data_dir, "IMPORTED.txt"), "w") as f:
        f.write(f"sha256 {digest}\n")


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: python3 import_original.py SOURCE TASK_DIR DATA_ROOT PRIVATE_ROOT")
    source, task_dir, data_root, _ = sys.argv[1:]
    shown = os.environ.get("MLGYM_IMPORT_SHOWN", source)
    path, shown = source_file(source, shown)
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    table = read_table(path, shown)
    if digest != KNOWN_SHA256:
        print(f"note: {shown} differs byte for byte from the copy the recorded MLGym baseline was reproduced on "
              f"(sha256 {digest[:16]}..., expected {KNOWN_SHA256[:16]}...); its rows and columns are as expected",
              file=sys.stderr)
    train, validation, test = mlgym_split(table)
    write(train, validation, test, os.path.join(data_root, "housePrice"), task_dir, digest)
    print(f"imported {shown}: train {len(train)}, validation {len(validation)}, test {len(test)} houses", file=sys.stderr)


if __name__ == "__main__":
    main()
