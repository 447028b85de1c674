package apt

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/patchloop/patchloop/internal/deb"
)

// Package is one stanza of a Packages index. Relationship fields are kept
// as written; parse them with deb.ParseRelations.
type Package struct {
	Name         string
	Version      string
	Architecture string
	// Source and SourceVersion name the source package; they default to
	// Name and Version when the stanza has no Source field or no version
	// in it.
	Source        string
	SourceVersion string
	Depends       string
	PreDepends    string
	Breaks        string
	Conflicts     string
	Provides      string
	Replaces      string
	// MultiArch is "same", "foreign", "allowed" or "" (no).
	MultiArch string
	Essential bool
	// Filename is the path of the .deb relative to the repository URI.
	Filename string
	Size     int64
	SHA256   string
}

// ParsePackages reads every stanza of a decompressed Packages index.
// Stanzas lacking what is needed to fetch and verify the .deb (Package,
// Version, Architecture, Filename, Size, SHA256) are an error.
func ParsePackages(ctx context.Context, r io.Reader) ([]Package, error) {
	pr := deb.NewParagraphReader(r)
	pr.SetLimits(deb.Limits{Keep: packageKeep})
	var out []Package
	for {
		if len(out)%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		p, err := pr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		pkg, err := packageFromParagraph(p)
		if err != nil {
			return nil, fmt.Errorf("stanza ending at line %d: %w", pr.Line(), err)
		}
		out = append(out, pkg)
	}
}

func packageFromParagraph(p deb.Paragraph) (Package, error) {
	pkg := Package{
		Name:         p.Get("Package"),
		Version:      p.Get("Version"),
		Architecture: p.Get("Architecture"),
		Depends:      p.Get("Depends"),
		PreDepends:   p.Get("Pre-Depends"),
		Breaks:       p.Get("Breaks"),
		Conflicts:    p.Get("Conflicts"),
		Provides:     p.Get("Provides"),
		Replaces:     p.Get("Replaces"),
		MultiArch:    p.Get("Multi-Arch"),
		Essential:    p.Get("Essential") == "yes",
		Filename:     p.Get("Filename"),
		SHA256:       strings.ToLower(p.Get("SHA256")),
	}
	for _, f := range [][2]string{{"Package", pkg.Name}, {"Version", pkg.Version}, {"Architecture", pkg.Architecture}, {"Filename", pkg.Filename}} {
		if f[1] == "" {
			return Package{}, fmt.Errorf("package %q: missing %s", pkg.Name, f[0])
		}
	}
	if clean, err := deb.CleanPath(pkg.Filename); err != nil || clean != pkg.Filename {
		return Package{}, fmt.Errorf("package %s: invalid Filename %q", pkg.Name, pkg.Filename)
	}
	size, err := strconv.ParseInt(p.Get("Size"), 10, 64)
	if err != nil || size < 0 {
		return Package{}, fmt.Errorf("package %s: invalid Size %q", pkg.Name, p.Get("Size"))
	}
	pkg.Size = size
	if !isSHA256(pkg.SHA256) {
		return Package{}, fmt.Errorf("package %s: missing or invalid SHA256", pkg.Name)
	}
	pkg.Source, pkg.SourceVersion = pkg.Name, pkg.Version
	if name, version := deb.ParseSource(p.Get("Source")); name != "" {
		pkg.Source = name
		if version != "" {
			pkg.SourceVersion = version
		}
	}
	return pkg, nil
}
