package apt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	archive "github.com/patchloop/patchloop/internal/apt"
	"github.com/patchloop/patchloop/internal/deb"
	"github.com/patchloop/patchloop/internal/patch/layer"
)

// debEntry is one data entry of a downloaded package; the content of
// regular files is in the spool.
type debEntry struct {
	deb.Entry
	off, size int64
	md5       string
}

// debPackage is a downloaded, verified and read package.
type debPackage struct {
	state   *pkgState
	info    *deb.Info
	entries []debEntry // archive order, without the root
	// conffiles is the Conffiles field of the new database record.
	conffiles []statusConffile
}

// fetchPackages downloads every planned package (the client checks each
// against the signed index) and reads it into the spool.
func (p *Patcher) fetchPackages(ctx context.Context, client *archive.Client, changes []*pkgState, sp *layer.Spool) ([]*debPackage, error) {
	out := make([]*debPackage, 0, len(changes))
	for _, ps := range changes {
		file, err := client.FetchDeb(ctx, *ps.cand)
		if err != nil {
			return nil, err
		}
		dp, err := readDeb(ctx, file, ps, sp)
		if err != nil {
			return nil, fmt.Errorf("reading package %s %s (%s): %w", ps.name, ps.version, ps.cand.URL(), err)
		}
		if got := dp.info.Package(); got != ps.name || dp.info.Version() != ps.version {
			return nil, fmt.Errorf("package %s %s (%s): the .deb holds %s %s", ps.name, ps.version, ps.cand.URL(), got, dp.info.Version())
		}
		out = append(out, dp)
	}
	return out, nil
}

// readDeb reads a .deb file's metadata and data entries.
func readDeb(ctx context.Context, file string, ps *pkgState, sp *layer.Spool) (*debPackage, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := deb.NewReader(ctx, f)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	dp := &debPackage{state: ps, info: r.Info()}
	for {
		e, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			return dp, nil
		}
		if err != nil {
			return nil, err
		}
		if e.Path == "." {
			continue
		}
		de := debEntry{Entry: *e}
		if e.Type == deb.TypeRegular {
			if de.off, de.size, de.md5, err = sp.Add(r); err != nil {
				return nil, fmt.Errorf("%s: %w", e.Path, err)
			}
			if de.size != e.Size {
				return nil, fmt.Errorf("%s: read %d bytes, header says %d", e.Path, de.size, e.Size)
			}
		}
		dp.entries = append(dp.entries, de)
	}
}
