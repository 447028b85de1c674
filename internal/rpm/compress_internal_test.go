package rpm

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os/exec"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// Streams of "hello\n" whose headers ask for a 1.5 GiB dictionary, as
// `xz --lzma2=dict=1536MiB` and `xz --format=lzma --lzma1=dict=1536MiB`
// write them: 64 and 29 bytes that would make the decoder allocate it.
const (
	xzHugeDict   = "fd377a585a000004e6d6b44602002101250000003b787b4101000568656c6c6f0a000000a56097f194f6fde000011e06c12fa41d1fb6f37d010000000004595a"
	lzmaHugeDict = "5d00000060ffffffffffffffff00341949ee8ddd3d3adfffffdd120000"
)

func TestDecompressRefusesHugeDictionaries(t *testing.T) {
	// A zstd frame with a 1 GiB window (descriptor 0xa0), one raw block.
	zstdHugeWindow := "28b52ffd00a0" + "310000" + hex.EncodeToString([]byte("hello\n"))
	for comp, h := range map[string]string{"xz": xzHugeDict, "lzma": lzmaHugeDict, "zstd": zstdHugeWindow} {
		data, _ := hex.DecodeString(h)
		zr, err := Decompress(comp, bytes.NewReader(data))
		if err == nil {
			_, err = io.ReadAll(zr)
		}
		if comp == "zstd" && errors.Is(err, zstd.ErrWindowSizeExceeded) {
			continue
		}
		if !errors.Is(err, errDictionary) {
			t.Errorf("%s: err %v, want a refused dictionary", comp, err)
		}
	}
}

// TestDecompressXZAsWritten: what the xz tool writes (one block or many,
// every check type, the largest preset) reads back
// through the guard unchanged.
func TestDecompressXZAsWritten(t *testing.T) {
	if _, err := exec.LookPath("xz"); err != nil {
		t.Skip("xz not installed")
	}
	plain := make([]byte, 300_000)
	_, _ = rand.Read(plain[:100_000]) // the rest zeros: both kinds of chunk
	for name, args := range map[string][]string{
		"default":                    {},
		"preset 9":                   {"-9"},
		"blocks":                     {"-T2", "--block-size=70000"},
		"sha256 check":               {"--check=sha256"},
		"no check":                   {"--check=none"},
		"sizes in the block headers": {"-T2", "--block-size=100000", "--check=crc32"},
		"lzma":                       {"--format=lzma", "-6"},
	} {
		cmd := exec.Command("xz", append([]string{"-c"}, args...)...)
		cmd.Stdin = bytes.NewReader(plain)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: xz: %v", name, err)
		}
		comp := "xz"
		if name == "lzma" {
			comp = "lzma"
		}
		zr, err := Decompress(comp, bytes.NewReader(out))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("%s: %d bytes back, err %v", name, len(got), err)
		}
	}
}

// FuzzXZGuard: the guard never panics, and passes what it accepts
// through unchanged.
func FuzzXZGuard(f *testing.F) {
	data, _ := hex.DecodeString(xzHugeDict)
	f.Add(data)
	f.Add(bytes.Replace(data, []byte{0x21, 0x01, 0x25}, []byte{0x21, 0x01, 0x10}, 1))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := io.ReadAll(newXZGuard(bytes.NewReader(in)))
		if err == nil && !bytes.Equal(out, in) {
			t.Fatalf("guard changed the stream")
		}
	})
}
