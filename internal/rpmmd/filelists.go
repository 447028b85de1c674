package rpmmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// xmlFilelistPackage is one <package> of filelists.xml.
type xmlFilelistPackage struct {
	PkgID string `xml:"pkgid,attr"`
	Name  string `xml:"name,attr"`
	Arch  string `xml:"arch,attr"`
	Files []struct {
		Type string `xml:"type,attr"`
		Path string `xml:",chardata"`
	} `xml:"file"`
}

// ParseFilelists reads an uncompressed filelists.xml, streaming, and
// calls each with every package's pkgid (its checksum's hex), name, arch
// and complete file list. Sizes are capped as in ParsePrimary.
func ParseFilelists(r io.Reader, each func(pkgid, name, arch string, files []File) error) error {
	return decodePackages(r, "filelists.xml", func(_ int, x *xmlFilelistPackage) error {
		if len(x.Files) > maxFiles {
			return fmt.Errorf("filelists.xml package %s: more than %d files", x.Name, maxFiles)
		}
		files := make([]File, 0, len(x.Files))
		for _, f := range x.Files {
			fp := strings.TrimSpace(f.Path)
			if !strings.HasPrefix(fp, "/") || path.Clean(fp) != fp {
				return fmt.Errorf("filelists.xml package %s: file %q is not a clean absolute path", x.Name, fp)
			}
			files = append(files, File{Path: fp, Type: f.Type})
		}
		return each(strings.ToLower(x.PkgID), x.Name, x.Arch, files)
	})
}

// LoadFilelists fetches the repository's filelists.xml (checked against
// repomd's checksum, as primary is) and replaces each package's Files
// with its complete list. Primary lists only the files dependencies
// usually name (under /etc and bin directories); call this when a
// dependency on another path must be resolved. A repository without
// filelists is an error wrapping ErrNoFilelists.
func (c *Client) LoadFilelists(ctx context.Context, md *Metadata) error {
	df, ok := md.Repomd.Data["filelists"]
	if !ok {
		return fmt.Errorf("repository %s: %w", md.Repo.ID, ErrNoFilelists)
	}
	u := md.BaseURL + df.Location
	zr, err := c.openData(ctx, u, df, maxPrimarySize)
	if err != nil {
		return err
	}
	defer zr.Close()
	byID := make(map[string]*Package, len(md.Packages))
	for _, p := range md.Packages {
		byID[p.Checksum.Hex] = p
	}
	err = ParseFilelists(zr, func(pkgid, name, arch string, files []File) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if p, ok := byID[pkgid]; ok && p.Name == name && p.Arch == arch {
			p.Files = files
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", u, err)
	}
	return nil
}

// ErrNoFilelists: the repository publishes no filelists.xml.
var ErrNoFilelists = errors.New("no filelists metadata")
