package sign_test

import (
	"encoding/hex"
	"io"
)

func ioCopy(w io.Writer, r io.Reader) (int64, error) { return io.Copy(w, r) }

func hexDecode(s string) ([]byte, error) { return hex.DecodeString(s) }
