package ospkg

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/patchloop/patchloop/internal/imagefs"
)

// Inventory is what Inspect found in an image.
type Inventory struct {
	// OS is the detected operating system.
	OS OS `json:"os"`
	// Repository is the apk repository release, for Alpine images.
	Repository *Repository `json:"repository,omitempty"`
	// PkgManager is the package format of the packages ("" when the image
	// has no package database).
	PkgManager PkgManager `json:"pkgManager,omitempty"`
	// Packages are the installed packages, sorted by name, arch and version.
	Packages []Package `json:"packages"`
	// LayersRead lists the layers opened to build this inventory, top layer
	// first. It is empty when the inventory came from a cache.
	LayersRead []imagefs.Layer `json:"layersRead,omitempty"`
	// FromCache is true when the inventory came from a cache.
	FromCache bool `json:"-"`
}

// buildInventory turns imagefs answers into an inventory.
func buildInventory(ctx context.Context, res *imagefs.Result) (*Inventory, error) {
	for _, p := range windowsMarkers {
		if res.Stats[p].Kind == imagefs.KindRegular {
			return nil, &UnsupportedOSError{Reason: ReasonWindows}
		}
	}
	found := make(map[string][]byte)
	for p, n := range res.Files {
		if n.Kind == imagefs.KindRegular {
			found[p] = n.Content
		}
	}
	inv := &Inventory{LayersRead: res.LayersRead, Packages: []Package{}}
	if data, ok := found[apkRepositoriesFile]; ok {
		inv.Repository, _ = parseApkRepositories(data)
	}
	o, ok := detectOS(found)
	if !ok && inv.Repository != nil {
		o, ok = OS{Family: Alpine, Name: inv.Repository.Release}, true
	}
	if !ok {
		return nil, &UnsupportedOSError{Reason: ReasonNoOS}
	}
	inv.OS = o
	want := PkgManagerOf(o.Family)
	for _, pm := range []PkgManager{Dpkg, Apk, RPM} {
		if want != "" && pm != want {
			continue
		}
		pkgs, present, err := readPackages(ctx, pm, res)
		if err != nil {
			return nil, err
		}
		if present && inv.PkgManager == "" {
			inv.PkgManager = pm
		}
		inv.Packages = append(inv.Packages, pkgs...)
	}
	if usesBuildInfo(o.Family) {
		if err := assignBuildInfo(inv.Packages, layerBuildInfo(ctx, res)); err != nil {
			return nil, err
		}
	}
	sortPackages(inv.Packages)
	inv.Packages = slices.CompactFunc(inv.Packages, func(a, b Package) bool {
		return a.Type == b.Type && a.ID == b.ID && a.Arch == b.Arch
	})
	return inv, nil
}

// readPackages parses the databases of one format; present reports whether
// the image has one.
func readPackages(ctx context.Context, pm PkgManager, res *imagefs.Result) (pkgs []Package, present bool, err error) {
	add := func(n imagefs.Node, parse func([]byte) ([]Package, error)) error {
		ps, err := parse(n.Content)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", n.Layer, n.RealPath, err)
		}
		for i := range ps {
			ps[i].File, ps[i].Layer = n.Path, n.Layer
		}
		pkgs, present = append(pkgs, ps...), true
		return nil
	}
	switch pm {
	case Dpkg:
		if n := res.Files[dpkgStatusFile]; n.Kind == imagefs.KindRegular {
			if err := add(n, func(b []byte) ([]Package, error) { return parseDpkgStatus(b, false) }); err != nil {
				return nil, false, err
			}
		}
		for _, n := range res.Globs[dpkgStatusGlob] {
			if strings.HasSuffix(n.Path, ".md5sums") {
				continue
			}
			if err := add(n, func(b []byte) ([]Package, error) { return parseDpkgStatus(b, true) }); err != nil {
				return nil, false, err
			}
		}
	case Apk:
		if n := res.Files[apkInstalledFile]; n.Kind == imagefs.KindRegular {
			if err := add(n, parseApkInstalled); err != nil {
				return nil, false, err
			}
		}
	case RPM:
		for _, p := range rpmDBPaths {
			if n := res.Files[p]; n.Kind == imagefs.KindRegular {
				err := add(n, func(b []byte) ([]Package, error) { return parseRPMDB(ctx, b) })
				return pkgs, present, err
			}
		}
	}
	return pkgs, present, nil
}

// sortPackages orders packages by name, arch, version and database file.
func sortPackages(pkgs []Package) {
	slices.SortFunc(pkgs, func(a, b Package) int {
		return cmp.Or(
			strings.Compare(a.Name, b.Name),
			strings.Compare(a.Arch, b.Arch),
			strings.Compare(a.FullVersion(), b.FullVersion()),
			strings.Compare(string(a.Type), string(b.Type)),
			strings.Compare(a.File, b.File),
		)
	})
}
