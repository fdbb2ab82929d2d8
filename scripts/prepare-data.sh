#!/usr/bin/env bash
# Idempotent data preparation, called by scripts/setup.sh: converts the data sets that Debian
# packages ship into the files the tasks use. Everything it writes is git-ignored:
#   datasets/local/housePrice/      train.csv, validation.csv, test.csv: the Ames housing data from
#                                   r-cran-modeldata (MIT), for the agent's workspace
#   tasks/regressionKaggleHousePrice/answers.csv    its validation and test prices (grader only)
#   datasets/local/fashion_mnist/   train_images.npy, train_labels.npy, test_images.npy: Fashion-MNIST
#                                   from dataset-fashion-mnist (MIT/Expat), for the agent's workspace
#   datasets/local/fashion_mnist.private/answers.csv  the labels of its test and validation images (grader only)
#   datasets/fixtures/<name>/, <name>.private/       the generated fixtures (`mlgym fixtures`)
# A stamp per data set (the hash of this script) skips the work when it is already done.
set -euo pipefail
cd "$(dirname "$0")/.."
export MLGYM_HOME="${MLGYM_HOME:-$PWD/.mlgym}"
mkdir -p "$MLGYM_HOME" datasets/local
LOG_TAG=prepare-data
# shellcheck source=scripts/shell-helpers.sh
. scripts/shell-helpers.sh

stamp=$(sha256sum scripts/prepare-data.sh | cut -c1-16)
# prepared NAME FILE... : the stamp of NAME matches and every FILE exists
prepared() {
  local name=$1; shift
  [ "$(cat "datasets/local/.$name.prepared" 2>/dev/null)" = "$stamp" ] || return 1
  for f in "$@"; do [ -f "$f" ] || return 1; done
}
# check_digest NAME SHA256 FILE... : warn when the data differ from the data the baselines were measured on
check_digest() {
  local name=$1 want=$2 got
  shift 2
  got=$(cat "$@" | sha256sum | cut -c1-16)
  [ "$got" = "$want" ] || log "warning: the $name data differ from the data the recorded baselines were measured on (digest $got, expected $want); a newer Debian package?"
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. Ames housing (regressionKaggleHousePrice): modeldata's `ames` (2930 sales, De Cock 2011),
#    split 70/10/20 into train/validation/test with a fixed seed; Id = row number in `ames`.
HOUSE=datasets/local/housePrice
HOUSE_ANSWERS=tasks/regressionKaggleHousePrice/answers.csv
#    A copy of Kaggle's train.csv imported with `mlgym prepare regressionKaggleHousePrice --from` stays.
if [ -f "$HOUSE/IMPORTED.txt" ]; then
  log "keeping the imported House Prices data in $HOUSE (remove the folder to return to the Ames data)"
elif ! prepared housePrice "$HOUSE/train.csv" "$HOUSE/validation.csv" "$HOUSE/test.csv" "$HOUSE_ANSWERS"; then
  if ! Rscript -e 'stopifnot(requireNamespace("modeldata", quietly = TRUE))' >/dev/null 2>&1; then
    log "installing Debian's r-cran-modeldata (the Ames housing data, and R to read it)"
    apt_install --no-install-recommends r-cran-modeldata || die "cannot install r-cran-modeldata (apt-get install r-cran-modeldata); see $MLGYM_HOME/apt.log"
  fi
  log "converting the Ames housing data into $HOUSE"
  Rscript -e 'write.csv(modeldata::ames, commandArgs(TRUE)[1], row.names = FALSE)' "$tmp/ames.csv" >/dev/null 2>&1 \
    || die "Rscript could not export modeldata::ames"
  python3 - "$tmp/ames.csv" "$HOUSE" "$HOUSE_ANSWERS" <<'PY'
import csv, os, random, sys
source, out_dir, answers_file = sys.argv[1:]
with open(source, newline="") as f:
    rows = list(csv.reader(f))
header, rows = rows[0], rows[1:]
if "Sale_Price" not in header or len(rows) != 2930:
    sys.exit(f"unexpected ames table: {len(rows)} rows, columns {header[:5]}...")
price = header.index("Sale_Price")
# Kaggle-style layout: Id first, the target SalePrice last.
features = [c for i, c in enumerate(header) if i != price]
records = [(i + 1, [v for j, v in enumerate(r) if j != price], r[price]) for i, r in enumerate(rows)]
# A seeded Fisher-Yates shuffle from Random.random() alone, which Python keeps stable across versions.
rng = random.Random(20250101)
order = list(range(len(records)))
for i in range(len(order) - 1, 0, -1):
    j = int(rng.random() * (i + 1))
    order[i], order[j] = order[j], order[i]
n_train, n_valid = round(0.7 * len(records)), round(0.1 * len(records))
splits = {
    "train": sorted(order[:n_train]),
    "validation": sorted(order[n_train:n_train + n_valid]),
    "test": sorted(order[n_train + n_valid:]),
}
os.makedirs(out_dir, exist_ok=True)
os.makedirs(os.path.dirname(answers_file), exist_ok=True)
for name, picked in splits.items():
    with open(os.path.join(out_dir, f"{name}.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["Id", *features] + ([] if name == "test" else ["SalePrice"]))
        for k in picked:
            rid, values, target = records[k]
            w.writerow([rid, *values] + ([] if name == "test" else [target]))
with open(answers_file, "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["Id", "SalePrice", "split"])
    for name in ("validation", "test"):
        for k in splits[name]:
            w.writerow([records[k][0], records[k][2], name])
with open(os.path.join(out_dir, "README.txt"), "w") as f:
    f.write(
        "Ames housing data (De Cock, 2011, Journal of Statistics Education 19(3)), as shipped in the R package\n"
        "modeldata (Debian: r-cran-modeldata), Copyright 2019 Max Kuhn, RStudio, MIT licence.\n"
        "Converted with `write.csv(modeldata::ames)`; Sale_Price renamed SalePrice; Id is the row number in\n"
        "modeldata::ames. Split 70/10/20 into train/validation/test with a fixed seed; test.csv has no SalePrice.\n"
    )
print(f"train {len(splits['train'])}, validation {len(splits['validation'])}, test {len(splits['test'])} rows", file=sys.stderr)
PY
  echo "$stamp" > datasets/local/.housePrice.prepared
  check_digest housePrice 9f9c78648ef68577 "$HOUSE/train.csv" "$HOUSE/validation.csv" "$HOUSE/test.csv" "$HOUSE_ANSWERS"
fi

# 2. Fashion-MNIST (imageClassificationFMnist): the IDX files of dataset-fashion-mnist as .npy
#    arrays (uint8). 5,000 training images chosen by a fixed seed are held out as the validation
#    split and appended, without their labels, to the 10,000 test images (whose order is kept): the
#    agent trains on the other 55,000; the grader scores validation on the 5,000 and test on all
#    10,000 official test images, as MLGym does. All the labels of test_images.npy stay with the grader.
FM=datasets/local/fashion_mnist
FM_ANSWERS=datasets/local/fashion_mnist.private/answers.csv
FM_SOURCE=/usr/share/datasets/fashion-mnist
if ! prepared fashion_mnist "$FM/train_images.npy" "$FM/train_labels.npy" "$FM/test_images.npy" "$FM_ANSWERS"; then
  if [ ! -f "$FM_SOURCE/t10k-labels-idx1-ubyte.gz" ]; then
    log "installing Debian's dataset-fashion-mnist"
    apt_install --no-install-recommends dataset-fashion-mnist || die "cannot install dataset-fashion-mnist (apt-get install dataset-fashion-mnist); see $MLGYM_HOME/apt.log"
  fi
  log "converting Fashion-MNIST into $FM"
  python3 - "$FM_SOURCE" "$FM" "$FM_ANSWERS" <<'PY'
import csv, gzip, os, random, struct, sys
source, out_dir, answers_file = sys.argv[1:]
PIXELS, VALIDATION = 28 * 28, 5000

def read_idx(name, magic, count):
    """The items of an IDX file: images as bytes of PIXELS, labels as ints."""
    with gzip.open(os.path.join(source, name)) as f:
        data = f.read()
    dims = data[3]
    got_magic, = struct.unpack(">I", data[:4])
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    if got_magic != magic or shape[0] != count:
        sys.exit(f"{name}: unexpected IDX header (magic {got_magic}, shape {shape})")
    payload = data[4 + 4 * dims:]
    return [payload[i * PIXELS:(i + 1) * PIXELS] for i in range(count)] if dims == 3 else list(payload)

def write_npy(name, items, shape):
    """A .npy file (format 1.0) of uint8 values, written without numpy."""
    shape = (len(items), *shape)
    header = "{'descr': '|u1', 'fortran_order': False, 'shape': (%s), }" % "".join(f"{d}, " for d in shape).rstrip(" ")
    header += " " * (-(10 + len(header) + 1) % 64) + "\n"
    with open(os.path.join(out_dir, name), "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1") + b"".join(
            item if isinstance(item, bytes) else bytes([item]) for item in items))

os.makedirs(out_dir, exist_ok=True)
os.makedirs(os.path.dirname(answers_file), exist_ok=True)
train_images = read_idx("train-images-idx3-ubyte.gz", 2051, 60000)
train_labels = read_idx("train-labels-idx1-ubyte.gz", 2049, 60000)
test_images = read_idx("t10k-images-idx3-ubyte.gz", 2051, 10000)
test_labels = read_idx("t10k-labels-idx1-ubyte.gz", 2049, 10000)
# A seeded Fisher-Yates shuffle from Random.random() alone, which Python keeps stable across versions.
rng = random.Random(20250102)
order = list(range(60000))
for i in range(len(order) - 1, 0, -1):
    j = int(rng.random() * (i + 1))
    order[i], order[j] = order[j], order[i]
validation = sorted(order[:VALIDATION])
train = sorted(order[VALIDATION:])
write_npy("train_images.npy", [train_images[i] for i in train], (28, 28))
write_npy("train_labels.npy", [train_labels[i] for i in train], ())
write_npy("test_images.npy", test_images + [train_images[i] for i in validation], (28, 28))
with open(answers_file, "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["index", "label", "split"])
    rows = [(label, "test") for label in test_labels] + [(train_labels[i], "validation") for i in validation]
    for i, (label, split) in enumerate(rows):
        w.writerow([i, label, split])
with open(os.path.join(out_dir, "README.txt"), "w") as f:
    f.write(
        "Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017; Hugging Face: zalando-datasets/fashion_mnist), as shipped\n"
        "by Debian's dataset-fashion-mnist, Copyright 2017 Zalando SE, MIT (Expat) licence.\n"
        "train_images.npy uint8 (55000, 28, 28) and train_labels.npy uint8 (55000,): the training split less 5,000\n"
        "images held out for validation. test_images.npy uint8 (15000, 28, 28): the 10,000 images of the test split,\n"
        "in its order, then the 5,000 held-out validation images; no labels for either.\n"
        "Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot.\n"
    )
PY
  echo "$stamp" > datasets/local/.fashion_mnist.prepared
  check_digest fashion_mnist 68c93760e22726a1 "$FM/train_images.npy" "$FM/train_labels.npy" "$FM/test_images.npy" "$FM_ANSWERS"
fi
# 3. The fixtures of the GPU-scale tasks' datasets (datasets/*.yaml with a `fixture`): small generated
#    stand-ins with the real data's layout, for --data fixture. Each generator runs in mlgym-base;
#    a stamp skips the unchanged ones.
node bin/mlgym.js fixtures || die "generating the fixture data sets failed (node bin/mlgym.js fixtures)"
log "data ready"
