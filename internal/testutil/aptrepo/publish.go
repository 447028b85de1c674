package aptrepo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"

	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/deb/compression"
)

// publish renders cfg into files and swaps them in.
func (r *Repo) publish(t testing.TB, cfg Config) {
	t.Helper()
	files := map[string][]byte{}
	for _, s := range cfg.Suites {
		publishSuite(t, cfg, s, files)
	}
	r.files.Publish(files)
	r.mu.Lock()
	r.cfg = cfg
	r.mu.Unlock()
}

// publishSuite adds the pool files, indexes and signed Release files of
// one suite to files.
func publishSuite(t testing.TB, cfg Config, s Suite, files map[string][]byte) {
	t.Helper()
	archs := s.Architectures
	if len(archs) == 0 {
		archs = []string{"amd64"}
	}
	comps := s.Components
	if len(comps) == 0 {
		comps = componentsOf(s.Packages)
	}
	indexes := map[string]*bytes.Buffer{}
	for _, c := range comps {
		for _, a := range archs {
			indexes[c+"/binary-"+a+"/Packages"] = &bytes.Buffer{}
		}
	}
	for _, p := range s.Packages {
		p = withDefaults(p)
		data := BuildDeb(t, p)
		pool := PoolPath(p)
		if old, ok := files[pool]; ok && !bytes.Equal(old, data) {
			t.Fatalf("aptrepo: two different packages at %s", pool)
		}
		files[pool] = data
		stanza := stanzaFor(t, p, pool, data)
		targets := []string{p.Arch}
		if p.Arch == "all" {
			targets = archs
		}
		for _, a := range targets {
			idx, ok := indexes[p.Component+"/binary-"+a+"/Packages"]
			if !ok {
				t.Fatalf("aptrepo: suite %s has no component %s for %s", s.Name, p.Component, a)
			}
			if idx.Len() > 0 {
				idx.WriteByte('\n')
			}
			idx.Write(stanza)
		}
	}
	if s.Synthetic > 0 {
		for _, a := range archs {
			idx, ok := indexes["main/binary-"+a+"/Packages"]
			if !ok {
				t.Fatalf("aptrepo: suite %s has no main component for synthetic packages", s.Name)
			}
			if idx.Len() > 0 {
				idx.WriteByte('\n')
			}
			idx.Write(SyntheticStanzas(s.Synthetic, a))
		}
	}
	dir := "dists/" + s.Name + "/"
	var sums bytes.Buffer
	formats := cfg.IndexFormats
	if formats == nil {
		formats = []compression.Format{compression.None, compression.Gzip, compression.XZ}
	}
	for _, name := range slices.Sorted(maps.Keys(indexes)) {
		for _, f := range formats {
			data := compress(t, indexes[name].Bytes(), f)
			files[dir+name+f.Ext()] = data
			sum := sha256.Sum256(data)
			fmt.Fprintf(&sums, "\n%s %8d %s", hex.EncodeToString(sum[:]), len(data), name+f.Ext())
		}
	}
	release := releaseFile(t, cfg, s, archs, comps, sums.String())
	files[dir+"Release"] = release
	files[dir+"Release.gpg"] = detachSign(t, cfg.Key, release)
	if !cfg.NoInRelease {
		files[dir+"InRelease"] = clearSign(t, cfg.Key, release)
	}
}

func componentsOf(pkgs []Package) []string {
	seen := map[string]bool{"main": len(pkgs) == 0}
	for _, p := range pkgs {
		seen[withDefaults(p).Component] = true
	}
	var out []string
	for c, ok := range seen {
		if ok {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

// BuildDeb builds the .deb of p with internal/deb, exactly as the
// repository serves it (same bytes for the same package).
func BuildDeb(t testing.TB, p Package) []byte {
	t.Helper()
	p = withDefaults(p)
	files := p.Files
	if len(files) == 0 {
		files = []deb.File{{Path: "usr/share/doc/" + p.Name + "/copyright", Data: []byte("Public domain test package.\n")}}
	}
	installed := 0
	for _, f := range files {
		installed += (len(f.Data) + 1023) / 1024
	}
	ctl := deb.Paragraph{Fields: []deb.Field{{Name: "Package", Value: p.Name}}}
	if p.Source != "" {
		ctl.Set("Source", p.Source)
	}
	ctl.Set("Version", p.Version)
	ctl.Set("Architecture", p.Arch)
	ctl.Set("Maintainer", "Patchloop Tests <tests@example.invalid>")
	ctl.Set("Installed-Size", strconv.Itoa(installed))
	if p.Depends != "" {
		ctl.Set("Depends", p.Depends)
	}
	for _, f := range p.Extra {
		ctl.Set(f.Name, f.Value)
	}
	ctl.Set("Description", "test package "+p.Name)
	var buf bytes.Buffer
	err := deb.Write(context.Background(), &buf, deb.Spec{Control: ctl, Files: files, Compression: compression.XZ, ModTime: time.Unix(1700000000, 0)})
	if err != nil {
		t.Fatalf("aptrepo: %v", err)
	}
	return buf.Bytes()
}

// stanzaFor renders the Packages entry of a built package: its control
// fields plus where to fetch it and how to verify it.
func stanzaFor(t testing.TB, p Package, pool string, data []byte) []byte {
	t.Helper()
	info, err := deb.ReadInfo(context.Background(), bytes.NewReader(data))
	if err != nil {
		t.Fatalf("aptrepo: rereading %s: %v", pool, err)
	}
	para := info.Control
	sum := sha256.Sum256(data)
	para.Set("Filename", pool)
	para.Set("Size", strconv.Itoa(len(data)))
	para.Set("SHA256", hex.EncodeToString(sum[:]))
	out, err := para.MarshalText()
	if err != nil {
		t.Fatalf("aptrepo: %s: %v", p.Name, err)
	}
	return out
}

func releaseFile(t testing.TB, cfg Config, s Suite, archs, comps []string, sums string) []byte {
	t.Helper()
	date := cfg.Date
	if date.IsZero() {
		date = time.Now()
	}
	codename := s.Codename
	if codename == "" {
		codename = s.Name
	}
	const layout = "Mon, 02 Jan 2006 15:04:05 UTC"
	p := deb.Paragraph{Fields: []deb.Field{
		{Name: "Origin", Value: "Patchloop"},
		{Name: "Label", Value: "Patchloop Test"},
		{Name: "Suite", Value: s.Name},
		{Name: "Codename", Value: codename},
		{Name: "Date", Value: date.UTC().Format(layout)},
	}}
	if !cfg.ValidUntil.IsZero() {
		p.Set("Valid-Until", cfg.ValidUntil.UTC().Format(layout))
	}
	p.Set("Architectures", strings.Join(archs, " "))
	p.Set("Components", strings.Join(comps, " "))
	p.Set("Description", "Patchloop test repository")
	p.Set("SHA256", sums)
	out, err := p.MarshalText()
	if err != nil {
		t.Fatalf("aptrepo: Release of %s: %v", s.Name, err)
	}
	return out
}

func detachSign(t testing.TB, k *Key, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&buf, k.entity, bytes.NewReader(data), k.signConfig()); err != nil {
		t.Fatalf("aptrepo: signing Release: %v", err)
	}
	return buf.Bytes()
}

func clearSign(t testing.TB, k *Key, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := clearsign.Encode(&buf, k.entity.PrivateKey, k.signConfig())
	if err != nil {
		t.Fatalf("aptrepo: clearsigning Release: %v", err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatalf("aptrepo: clearsigning Release: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("aptrepo: clearsigning Release: %v", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

func compress(t testing.TB, raw []byte, f compression.Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := compression.NewWriter(&buf, f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
