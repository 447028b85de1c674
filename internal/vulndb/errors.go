package vulndb

import "errors"

// ErrNoDatabase means there is no usable database in the directory: it is
// missing, incomplete, of another schema, or not a Trivy database.
var ErrNoDatabase = errors.New("no usable vulnerability database")

// ErrNotFound means the database has no entry for the requested key.
var ErrNotFound = errors.New("not found in vulnerability database")

// hint tells the user how to get a usable database.
const hint = "run `patchloop db update` to download it, `patchloop db import FILE` to load a copy, or pass --db with a directory holding trivy.db and metadata.json"
