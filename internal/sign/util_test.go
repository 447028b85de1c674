package sign_test

import (
	"encoding/hex"
	"encoding/pem"
	"io"
)

func ioCopy(w io.Writer, r io.Reader) (int64, error) { return io.Copy(w, r) }

func hexDecode(s string) ([]byte, error) { return hex.DecodeString(s) }

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
