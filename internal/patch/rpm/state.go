package rpm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/imagefs"
	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/rpm"
	"github.com/patchloop/patchloop/internal/rpmdb"
	"github.com/patchloop/patchloop/internal/rpmmd"
)

// Image paths the patcher reads besides the repository configuration.
const (
	osReleaseFile  = "etc/os-release"
	osReleaseFile2 = "usr/lib/os-release"
	passwdFile     = "etc/passwd"
	groupFile      = "etc/group"
	modulesDir     = "etc/dnf/modules.d"
)

// ErrBerkeleyDB: the image keeps its rpm database in Berkeley DB
// (Packages: EL8, Amazon Linux 2), which Patchloop reads but does not
// write.
var ErrBerkeleyDB = patch.Permanent(errors.New("rpmdb format BerkeleyDB is read-only in Patchloop"))

// dbFormat is the format of an rpm database.
type dbFormat string

// rpm database formats.
const (
	formatSQLite dbFormat = "sqlite"
	formatNDB    dbFormat = "ndb"
	formatBDB    dbFormat = "bdb"
)

// installed is one installed package: its parsed form and its header as
// the database stores it.
type installed struct {
	pkg  *Package
	hnum uint32
	hdr  *rpm.Header
}

// imageState is what the patcher reads from an image before planning.
type imageState struct {
	view *imagefs.View
	cfg  *v1.ConfigFile
	// id and versionID are os-release's ID and VERSION_ID.
	id, versionID string
	// arch is the machine architecture as rpm names it (x86_64).
	arch string
	// dbPath and dbFormat say where and how the rpm database is kept;
	// db is its content.
	dbPath   string
	dbFormat dbFormat
	// dbFiles are the files of the database directory, by name.
	dbFiles map[string][]byte
	db      []byte
	// rdb is a private copy of the database, open for changes (nil for
	// Berkeley DB).
	rdb      *rpmdb.DB
	rdbDir   string
	packages []*installed
	// dbKeys are the keys imported into the rpm database (gpg-pubkey
	// headers), which rpm and dnf trust for every repository.
	dbKeys *rpm.Keyring
	// files holds the repository configuration (main files, .repo files,
	// variable files) by image path.
	files map[string][]byte
	// streams are the enabled module streams; moduleStates names the
	// modules etc/dnf/modules.d gives a state (enabled or not).
	streams      map[string]string
	moduleStates map[string]bool
	// baseProduct is SUSE's etc/products.d/baseproduct, nil elsewhere.
	baseProduct []byte
	// policy says which files of a package are installed.
	policy installPolicy
	// users and groups map names to ids (etc/passwd, etc/group).
	users, groups map[string]int
}

// readImageState reads the release, the rpm database and the repository
// configuration in one pass over the layers. The image is read again
// when the layer is built, so each layer read is kept, verified and
// uncompressed, in workDir until the state's view is closed.
func readImageState(ctx context.Context, img v1.Image, workDir string) (_ *imageState, err error) {
	view, cfg, err := patch.OpenImage(ctx, img, workDir)
	if err != nil {
		return nil, err
	}
	st := &imageState{view: view, cfg: cfg, files: map[string][]byte{}, streams: map[string]string{}}
	defer func() {
		if err != nil {
			st.close()
		}
	}()
	dbPaths := ospkg.RPMDBPaths()
	var dbCompanions []string
	for _, p := range dbPaths {
		d := path.Dir(p)
		dbCompanions = append(dbCompanions, d+"/"+rpmdb.NDBIndex, d+"/"+rpmdb.SQLiteFile+"-wal", d+"/"+rpmdb.SQLiteFile+"-shm")
	}
	files := slices.Concat(dbCompanions, []string{osReleaseFile, osReleaseFile2, passwdFile, groupFile, rpmmd.BaseProductFile}, dbPaths, rpmmd.MainFiles)
	globs := append(dirGlobs(rpmmd.ConfigGlobs(rpmmd.Main{})), modulesDir+"/*", rpmMacrosDir+"/*")
	res, err := view.Resolve(ctx, imagefs.Request{Files: files, Globs: globs})
	if err != nil {
		return nil, fmt.Errorf("reading the rpm database and repository configuration: %w", err)
	}
	content := patch.RegularFiles(res.Files)
	rel := content[osReleaseFile]
	if rel == nil {
		rel = content[osReleaseFile2]
	}
	kv := ospkg.ReleaseFields(rel)
	st.id, st.versionID = kv["ID"], kv["VERSION_ID"]
	st.users, st.groups = idsOf(content[passwdFile]), idsOf(content[groupFile])
	st.baseProduct = content[rpmmd.BaseProductFile]
	st.moduleStates = map[string]bool{}
	for _, p := range dbPaths {
		if data, ok := content[p]; ok {
			st.dbPath, st.db = p, data
			break
		}
	}
	if st.dbPath == "" {
		return nil, patch.Permanent(fmt.Errorf("no rpm database in the image (looked for /%s)", strings.Join(dbPaths, ", /")))
	}
	st.dbFiles = map[string][]byte{}
	for p, data := range content {
		if path.Dir(p) == path.Dir(st.dbPath) {
			st.dbFiles[path.Base(p)] = data
		}
	}
	mainFiles := map[string][]byte{}
	for _, f := range rpmmd.MainFiles {
		if data, ok := content[f]; ok {
			st.files[f], mainFiles[f] = data, data
		}
	}
	modules, macros := st.takeGlobs(res.Globs)
	st.policy = readInstallPolicy(mainFiles, macros)
	if err := st.readReposDirs(ctx); err != nil {
		return nil, err
	}
	if err := st.readDB(ctx, workDir); err != nil {
		return nil, err
	}
	st.arch = st.machineArch()
	st.readStreams(modules)
	return st, nil
}

// takeGlobs keeps the repository files of the globs' answers and returns
// the module state files and the rpm macro files among them.
func (st *imageState) takeGlobs(globs map[string][]imagefs.Node) (modules []imagefs.Node, macros map[string][]byte) {
	macros = map[string][]byte{}
	for g, nodes := range globs {
		for _, n := range nodes {
			if n.Kind != imagefs.KindRegular {
				continue
			}
			switch g {
			case modulesDir + "/*":
				if strings.HasSuffix(n.Path, ".module") {
					modules = append(modules, n)
				}
			case rpmMacrosDir + "/*":
				if strings.HasPrefix(path.Base(n.Path), "macros") {
					macros[n.Path] = n.Content
				}
			default:
				st.files[n.Path] = n.Content
			}
		}
	}
	return modules, macros
}

// readReposDirs reads the .repo files of directories a main
// configuration names (reposdir=) besides the defaults.
func (st *imageState) readReposDirs(ctx context.Context) error {
	m, err := rpmmd.MainOf(st.files)
	if err != nil {
		return patch.Permanent(err)
	}
	var extra []string
	for _, g := range dirGlobs(rpmmd.ConfigGlobs(m)) {
		if !slices.Contains(dirGlobs(rpmmd.ConfigGlobs(rpmmd.Main{})), g) {
			extra = append(extra, g)
		}
	}
	if len(extra) == 0 {
		return nil
	}
	res, err := st.view.Resolve(ctx, imagefs.Request{Globs: extra})
	if err != nil {
		return fmt.Errorf("reading repository files: %w", err)
	}
	for _, nodes := range res.Globs {
		for _, n := range nodes {
			if n.Kind == imagefs.KindRegular {
				st.files[n.Path] = n.Content
			}
		}
	}
	return nil
}

// dirGlobs turns "dir/*.ext" globs into the "dir/*" ones imagefs
// resolves (ImageRepos picks the files it wants by name).
func dirGlobs(globs []string) []string {
	var out []string
	for _, g := range globs {
		if d := path.Dir(g) + "/*"; !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

// readDB parses the installed packages of the rpm database. SQLite and
// NDB databases are copied to a private directory and opened for the
// changes the patch makes; Berkeley DB is only read.
func (st *imageState) readDB(ctx context.Context, workDir string) error {
	switch {
	case bytes.HasPrefix(st.db, []byte("SQLite format 3\x00")):
		st.dbFormat = formatSQLite
	case bytes.HasPrefix(st.db, []byte("RpmP")):
		st.dbFormat = formatNDB
	default:
		st.dbFormat = formatBDB
	}
	var keys []*rpm.Keyring
	defer func() { st.dbKeys = rpm.MergeKeyrings(keys...) }()
	add := func(i int, hnum uint32, blob []byte) error {
		h, err := rpm.ParseBlob(blob)
		if err == nil {
			if kr, kerr := rpm.KeyringFromPubkey(h); kerr == nil && kr != nil {
				keys = append(keys, kr)
				return nil
			}
			var p *Package
			if p, err = fromHeader(h); err == nil {
				st.packages = append(st.packages, &installed{pkg: p, hnum: hnum, hdr: h})
			}
		}
		if err != nil {
			return patch.Permanent(fmt.Errorf("/%s: package record %d: %w", st.dbPath, i, err))
		}
		return nil
	}
	if st.dbFormat == formatBDB {
		i := 0
		err := ospkg.EachRPMHeaderBlob(ctx, st.db, func(b []byte) error {
			i++
			return add(i, 0, bytes.Clone(b))
		})
		if err != nil {
			return patch.Permanent(fmt.Errorf("/%s: %w", st.dbPath, err))
		}
		return nil
	}
	dir, err := os.MkdirTemp(workDir, "rpmdb-")
	if err != nil {
		return err
	}
	for name, data := range st.dbFiles {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return err
		}
	}
	st.rdbDir = dir
	if st.rdb, err = rpmdb.Open(ctx, dir); err != nil {
		return patch.Permanent(fmt.Errorf("/%s: %w", st.dbPath, err))
	}
	i := 0
	err = st.rdb.Each(ctx, func(p rpmdb.Package) error {
		i++
		return add(i, p.HNum, p.Blob)
	})
	if err != nil {
		return fmt.Errorf("/%s: %w", st.dbPath, err)
	}
	return nil
}

// close releases the image view and the database copy.
func (st *imageState) close() {
	_ = st.view.Close()
	if st.rdb != nil {
		_ = st.rdb.Close()
	}
}

// machineArch returns the image's architecture as rpm names it: the
// architecture of the rpm package (else of the most packages), else the
// image config's.
func (st *imageState) machineArch() string {
	count := map[string]int{}
	for _, in := range st.packages {
		a := in.pkg.Arch
		if in.pkg.Name == "rpm" && a != "noarch" && a != "" {
			return a
		}
		if a != "noarch" && a != "" && a != "(none)" {
			count[a]++
		}
	}
	best := ""
	for _, a := range slices.Sorted(maps.Keys(count)) {
		if best == "" || count[a] > count[best] {
			best = a
		}
	}
	if best != "" {
		return best
	}
	return rpmArch(st.cfg.Architecture)
}

// rpmArch maps an OCI platform architecture to rpm's.
func rpmArch(arch string) string {
	switch arch {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	case "386":
		return "i686"
	case "arm":
		return "armv7hl"
	}
	return arch
}

// idsOf reads name:x:id lines (etc/passwd, etc/group).
func idsOf(data []byte) map[string]int {
	out := map[string]int{}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Split(l, ":")
		if len(f) < 3 {
			continue
		}
		if id, err := strconv.Atoi(f[2]); err == nil && id >= 0 {
			if _, dup := out[f[0]]; !dup {
				out[f[0]] = id
			}
		}
	}
	return out
}

// keyFiles reads the key files repositories name, inside the image.
func (st *imageState) keyFiles(ctx context.Context, paths []string) (map[string][]byte, error) {
	out := map[string][]byte{}
	if len(paths) == 0 {
		return out, nil
	}
	res, err := st.view.Resolve(ctx, imagefs.Request{Files: paths})
	if err != nil {
		return nil, fmt.Errorf("reading repository keys: %w", err)
	}
	for p, n := range res.Files {
		if n.Kind == imagefs.KindRegular {
			out[path.Clean(p)] = n.Content
		}
	}
	return out, nil
}
