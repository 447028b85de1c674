package rpm

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/patchloop/patchloop/internal/logctx"
	"github.com/patchloop/patchloop/internal/patch/layer"
	"github.com/patchloop/patchloop/internal/rpm"
	"github.com/patchloop/patchloop/internal/rpmdb"
)

// writeDatabase removes the headers of the replaced and obsoleted
// packages from the database copy, adds the installed headers of the
// new ones (their immutable regions byte for byte, the signature tags
// and the install-time tags; install time and transaction id are the
// layer's timestamp, so the layer stays deterministic), and puts the
// changed database files into the layer.
func (p *Patcher) writeDatabase(ctx context.Context, st *imageState, b *layer.Builder, lay *layer.Layout, pl *plan, pkgs []*fetched) error {
	if st.rdb == nil {
		return fmt.Errorf("/%s: %w", st.dbPath, ErrBerkeleyDB)
	}
	hnums := map[*Package]uint32{}
	for _, in := range st.packages {
		hnums[in.pkg] = in.hnum
	}
	for _, n := range append(append([]*node(nil), pl.changes...), pl.removals...) {
		if n.inst == nil {
			continue
		}
		if err := st.rdb.Remove(ctx, hnums[n.inst]); err != nil {
			return fmt.Errorf("/%s: removing %s: %w", st.dbPath, n.inst.NEVRA(), err)
		}
	}
	color, ok, err := st.rdb.InstallColor(ctx)
	if err != nil {
		return fmt.Errorf("/%s: %w", st.dbPath, err)
	}
	if !ok {
		color = rpmdb.TransactionColor(st.arch)
	}
	in := rpmdb.Install{Time: b.ModTime, TID: uint32(b.ModTime.Unix()), Color: color}
	for _, fp := range pkgs {
		in.FileStates = nil
		if len(fp.notInstalled) > 0 {
			in.FileStates = make([]byte, len(fp.pkg.Files))
			for _, i := range fp.notInstalled {
				in.FileStates[i] = rpm.FileStateNotInstalled
			}
		}
		h, err := rpmdb.Installed(fp.file.Signature, fp.file.Header, in)
		if err != nil {
			return fmt.Errorf("package %s: %w", fp.pkg.NEVRA(), err)
		}
		if _, err := st.rdb.Add(ctx, h); err != nil {
			return fmt.Errorf("/%s: adding %s: %w", st.dbPath, fp.pkg.NEVRA(), err)
		}
	}
	ch, err := st.rdb.Commit(ctx)
	if err != nil {
		return fmt.Errorf("/%s: %w", st.dbPath, err)
	}
	dir := path.Dir(st.dbPath)
	realDir, err := lay.RealDir(dir)
	if err != nil {
		return err
	}
	for _, name := range ch.Write {
		data, err := os.ReadFile(filepath.Join(st.rdbDir, name))
		if err != nil {
			return fmt.Errorf("/%s: %w", st.dbPath, err)
		}
		b.File(layer.Join(realDir, name), 0o644, data)
	}
	for _, name := range ch.Delete {
		if _, had := st.dbFiles[name]; had {
			b.Whiteout(layer.Join(realDir, name))
		}
	}
	logctx.From(ctx, p.log).InfoContext(ctx, "rpm patcher: rpm database updated", "path", "/"+st.dbPath, "format", string(st.dbFormat), "removed", len(pl.changes)+len(pl.removals)-countNew(pl), "added", len(pkgs))
	return nil
}

// countNew counts the planned packages that are new, not upgrades.
func countNew(pl *plan) int {
	n := 0
	for _, c := range pl.changes {
		if c.inst == nil {
			n++
		}
	}
	return n
}
