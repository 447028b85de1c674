package apkrepo

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
)

// SyntheticRecords returns n APKINDEX records shaped like Alpine's (main
// has about 5,500 for x86_64, community about 20,000): C: checksums,
// sizes, descriptions, licenses, origins with several subpackages (-doc,
// -dev, -openrc), D: with so:, cmd:, pc: and versioned package
// dependencies and conflicts (!name), p: with so:, cmd: and pc: names,
// i: install_if for -doc and -openrc, k: priorities. Each record ends with
// a blank line. They name packages the repository does not serve, so they
// are for benchmarks of index handling, never for installing. The output
// is the same for the same n and arch.
func SyntheticRecords(n int, arch string) []byte {
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	var b strings.Builder
	b.Grow(n * 420)
	words := strings.Fields("library runtime support files for the compiler collection shared development " +
		"headers documentation utilities daemon client server plugin module Python Perl bindings data fonts " +
		"tools graphical terminal network security cryptographic toolkit lightweight fast")
	sentence := func(k int) string {
		w := make([]string, k)
		for i := range w {
			w[i] = words[rng.IntN(len(words))]
		}
		return strings.Join(w, " ")
	}
	// Packages come in origins of 1–4: the main one, then -dev, -doc,
	// -openrc.
	origin := func(i int) int { return i / 3 }
	name := func(i int) string {
		base := fmt.Sprintf("synth%d", origin(i))
		if origin(i)%5 == 0 {
			base = fmt.Sprintf("libsynth%d", origin(i))
		}
		switch i % 3 {
		case 1:
			return base + "-dev"
		case 2:
			if i%2 == 0 {
				return base + "-doc"
			}
			return base + "-openrc"
		}
		return base
	}
	soname := func(i int) string { return fmt.Sprintf("so:libsynth%d.so.%d", origin(i), origin(i)%4) }
	versions := make(map[int]string)
	version := func(o int) string {
		if v, ok := versions[o]; ok {
			return v
		}
		v := fmt.Sprintf("%d.%d.%d-r%d", rng.IntN(5), rng.IntN(30), rng.IntN(10), rng.IntN(4))
		if o%13 == 0 {
			v = fmt.Sprintf("%d.%d_git%d-r0", rng.IntN(3), rng.IntN(10), 20250101+rng.IntN(300))
		}
		versions[o] = v
		return v
	}
	for i := range n {
		o, pkg := origin(i), name(i)
		v := version(o)
		sum := sha1.Sum([]byte(pkg + v))
		a := arch
		if i%3 == 2 && i%2 == 0 {
			a = "noarch"
		}
		fmt.Fprintf(&b, "C:Q1%s\nP:%s\nV:%s\nA:%s\n", base64.StdEncoding.EncodeToString(sum[:]), pkg, v, a)
		fmt.Fprintf(&b, "S:%d\nI:%d\n", 2000+rng.IntN(4<<20), 4096+rng.IntN(16<<20))
		fmt.Fprintf(&b, "T:%s\nU:https://synth%d.example.invalid/\n", sentence(3+rng.IntN(6)), o)
		fmt.Fprintf(&b, "L:%s\n", []string{"MIT", "GPL-2.0-or-later", "BSD-3-Clause", "Apache-2.0 AND MIT", "LGPL-2.1-only"}[o%5])
		fmt.Fprintf(&b, "o:%s\nm:Synthetic Maintainer %d <synth%d@example.invalid>\n", name(3*o), o%300, o%300)
		fmt.Fprintf(&b, "t:%d\nc:%040x\n", 1735689600+rng.IntN(30000000), rng.Uint64())
		var deps, provides []string
		switch i % 3 {
		case 0:
			deps = append(deps, "so:libc.musl-"+arch+".so.1")
			for range rng.IntN(6) {
				j := rng.IntN(n)
				switch rng.IntN(4) {
				case 0:
					deps = append(deps, name(3*origin(j))+">="+version(origin(j)))
				case 1:
					deps = append(deps, fmt.Sprintf("cmd:synthcmd%d", origin(j)))
				default:
					deps = append(deps, soname(j))
				}
			}
			if o%40 == 0 {
				deps = append(deps, "!"+name(3*(o+1)))
			}
			if o%5 == 0 {
				provides = append(provides, soname(i)+"=0."+fmt.Sprint(o%4))
			}
			provides = append(provides, fmt.Sprintf("cmd:synthcmd%d=%s", o, v))
			if o%7 == 0 {
				provides = append(provides, fmt.Sprintf("cmd:synthcmd%d-extra=%s", o, v))
			}
			if o%50 == 0 {
				fmt.Fprintf(&b, "k:%d\n", 100+o%10)
			}
		case 1:
			deps = append(deps, name(3*o)+"="+v, "pkgconfig")
			provides = append(provides, fmt.Sprintf("pc:synth%d=%s", o, strings.Split(v, "-")[0]))
		case 2:
			if i%2 == 0 {
				fmt.Fprintf(&b, "i:docs %s=%s\n", name(3*o), v)
			} else {
				fmt.Fprintf(&b, "i:openrc %s=%s\n", name(3*o), v)
				deps = append(deps, "openrc")
			}
		}
		if len(deps) > 0 {
			fmt.Fprintf(&b, "D:%s\n", strings.Join(deps, " "))
		}
		if len(provides) > 0 {
			fmt.Fprintf(&b, "p:%s\n", strings.Join(provides, " "))
		}
		b.WriteString("\n")
	}
	return []byte(b.String())
}
