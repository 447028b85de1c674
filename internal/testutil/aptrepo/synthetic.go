package aptrepo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
)

// SyntheticStanzas returns n Packages paragraphs shaped like Debian's
// (bookworm's main index has 63,440 of about 800 bytes): Depends with
// alternatives and version constraints, Pre-Depends, Provides, Breaks and
// Replaces, Source with versions, Multi-Arch, multi-line Descriptions,
// tags and checksums. They name .debs the repository does not serve, so
// they are for benchmarks of index handling, never for installing. The
// output is the same for the same n and arch.
func SyntheticStanzas(n int, arch string) []byte {
	rng := rand.New(rand.NewPCG(uint64(n), 42))
	var b bytes.Buffer
	b.Grow(n * 900)
	words := strings.Fields("library runtime support files for the GNU C compiler collection shared " +
		"development headers documentation utilities daemon client server plugin module Python Perl " +
		"bindings data fonts tools graphical terminal network security cryptographic toolkit")
	sentence := func(k int) string {
		w := make([]string, k)
		for i := range w {
			w[i] = words[rng.IntN(len(words))]
		}
		return strings.Join(w, " ")
	}
	name := func(i int) string {
		switch i % 4 {
		case 0:
			return fmt.Sprintf("libsynth%d-%d", i, i%7)
		case 1:
			return fmt.Sprintf("synth-tool%d", i)
		case 2:
			return fmt.Sprintf("python3-synth%d", i)
		}
		return fmt.Sprintf("synth%d-data", i)
	}
	for i := range n {
		if i > 0 {
			b.WriteByte('\n')
		}
		pkg := name(i)
		src := fmt.Sprintf("synth-src%d", i/3)
		version := fmt.Sprintf("%d.%d.%d-%d+deb12u%d", rng.IntN(5), rng.IntN(30), rng.IntN(10), 1+rng.IntN(4), rng.IntN(3))
		if i%17 == 0 {
			version = "1:" + version
		}
		a := arch
		if i%4 == 3 {
			a = "all"
		}
		fmt.Fprintf(&b, "Package: %s\n", pkg)
		if i%3 != 0 {
			fmt.Fprintf(&b, "Source: %s (%s)\n", src, version)
		} else {
			fmt.Fprintf(&b, "Source: %s\n", src)
		}
		fmt.Fprintf(&b, "Version: %s\nInstalled-Size: %d\n", version, 10+rng.IntN(50000))
		fmt.Fprintf(&b, "Maintainer: Synthetic Maintainers <synth%d@example.invalid>\n", i%200)
		fmt.Fprintf(&b, "Architecture: %s\n", a)
		if i%4 == 0 {
			b.WriteString("Multi-Arch: same\n")
		} else if i%5 == 0 {
			b.WriteString("Multi-Arch: foreign\n")
		}
		if i%9 == 0 {
			fmt.Fprintf(&b, "Replaces: %s (<< %s)\nBreaks: %s (<< %s)\n", name(i+1), version, name(i+2), version)
		}
		if i%6 == 0 {
			fmt.Fprintf(&b, "Provides: %s-abi-%d, synth-virtual%d (= %s)\n", pkg, i%11, i%500, version)
		}
		if i%4 == 0 {
			b.WriteString("Pre-Depends: libc6 (>= 2.36)\n")
		}
		deps := []string{"libc6 (>= 2.34)"}
		for k := range 1 + rng.IntN(6) {
			d := name(rng.IntN(n))
			switch k % 3 {
			case 0:
				d += fmt.Sprintf(" (>= %d.%d)", rng.IntN(5), rng.IntN(20))
			case 1:
				d += " | " + name(rng.IntN(n)) + " (>= 1:0.9~)"
			}
			deps = append(deps, d)
		}
		if i%10 == 0 {
			deps = append(deps, "debconf (>= 0.5) | debconf-2.0")
		}
		fmt.Fprintf(&b, "Depends: %s\n", strings.Join(deps, ", "))
		if i%3 == 0 {
			fmt.Fprintf(&b, "Recommends: %s, %s\nSuggests: %s\n", name(rng.IntN(n)), name(rng.IntN(n)), name(rng.IntN(n)))
		}
		fmt.Fprintf(&b, "Description: %s\n", sentence(6))
		for range 3 + rng.IntN(10) {
			fmt.Fprintf(&b, " %s.\n", sentence(10))
		}
		b.WriteString(" .\n This package is synthetic, for benchmarks.\n")
		fmt.Fprintf(&b, "Homepage: https://synth%d.example.invalid/\n", i/3)
		sum := sha256.Sum256([]byte(pkg + version))
		fmt.Fprintf(&b, "Description-md5: %s\n", hex.EncodeToString(sum[:16]))
		fmt.Fprintf(&b, "Tag: devel::library, implemented-in::c, role::shared-lib, suite::synth%d\n", i%50)
		fmt.Fprintf(&b, "Section: %s\nPriority: optional\n", []string{"libs", "utils", "python", "misc"}[i%4])
		prefix := src[:1]
		fmt.Fprintf(&b, "Filename: pool/main/%s/%s/%s_%s_%s.deb\n", prefix, src, pkg, strings.TrimPrefix(version, "1:"), a)
		fmt.Fprintf(&b, "Size: %d\nMD5sum: %s\nSHA256: %s\n", 1000+rng.IntN(5<<20), hex.EncodeToString(sum[16:]), hex.EncodeToString(sum[:]))
	}
	return b.Bytes()
}
