package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/scan"
	"github.com/patchloop/patchloop/internal/tags"
	"github.com/patchloop/patchloop/internal/vulndb"
)

// patchFlags are the flags of `patchloop patch`.
type patchFlags struct {
	report         string
	db             string
	skipDBUpdate   bool
	dbRepositories []string
	dataDir        string
	convention     string
	tag            string
	mirrors        []string
	keyring        string
	apkMirrors     []string
	apkKeyring     string
	vex            string
	dryRun         bool
	output         string
	reg            registryFlags
}

// newPatchCommand builds `patchloop patch`.
func newPatchCommand(s *streams) *cobra.Command {
	var f patchFlags
	cmd := &cobra.Command{
		Use:   "patch IMAGE",
		Short: "Patch an image's fixable OS-package vulnerabilities and push it under a patch tag",
		Long: `Patch upgrades the OS packages of an image that have fixed vulnerabilities,
without rebuilding it: it appends one layer holding the new packages' files
and package database, and pushes the result under the next patch tag.

The vulnerabilities come from a Trivy JSON report (--report), or from
scanning the image as ` + "`patchloop scan`" + ` does (the same --db, --data-dir and
database update). Debian and Ubuntu images are patched from their own apt
sources (etc/apt/sources.list*), or from their release's default sources
when they have none (distroless), verified with the keys the image trusts
or --keyring. --apt-mirror URL replaces every source's URI; FROM=TO replaces
one. Alpine, Wolfi and Chainguard images are patched from the repositories
in etc/apk/repositories (else their release's defaults), their indexes
verified with the keys in etc/apk/keys or --apk-keyring; --apk-mirror URL
replaces the base of every repository (…/v3.22/main keeps v3.22/main),
FROM=TO a URL prefix. Every linux platform of a multi-platform image is patched and a new
index pushed; other platforms keep their original manifests.

The tag is the next incremental patch tag (TAG-1, TAG-2, …) or, with
--tag-convention floating, TAG-patched (overwritten); --tag overrides both.
Maintainer scripts (apk: install scripts and triggers) are not run; the output names the packages that had
some. An image with nothing to fix is left alone (exit code 0, no tag).
--dry-run prints the plan without downloading packages or pushing.`,
		Example: `  # Patch an image, scanning it first
  patchloop patch localhost:5000/app:1.0

  # Patch from a Trivy report, through a local Debian mirror, with an OpenVEX document
  patchloop patch localhost:5000/app:1.0 --report report.json \
      --apt-mirror http://mirror.local/debian --vex app.vex.json

  # Show what would change
  patchloop patch localhost:5000/app:1.0 --dry-run`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPatch(cmd, s, &f, args[0])
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.report, "report", "", "Trivy JSON report of the image (default: scan the image)")
	fl.StringVar(&f.db, "db", "", "use the vulnerability database in this directory as it is (no update)")
	fl.BoolVar(&f.skipDBUpdate, "skip-db-update", false, "do not update the database in <data-dir>/db first")
	fl.StringSliceVar(&f.dbRepositories, "db-repository", nil, "database artifact repositories to update from, in order (repeatable)")
	fl.StringVar(&f.dataDir, "data-dir", defaultDataDir, "directory holding the database (db/), the scan cache (cache/) and downloaded packages (apt/, apk/)")
	fl.StringVar(&f.convention, "tag-convention", string(tags.Incremental), "patch tag convention: incremental (TAG-N) or floating (TAG-patched)")
	fl.StringVar(&f.tag, "tag", "", "push under this tag instead of the convention's")
	fl.StringArrayVar(&f.mirrors, "apt-mirror", nil, "replace every apt source URI with URL, or one with FROM=TO (repeatable)")
	fl.StringVar(&f.keyring, "keyring", "", "verify repositories with this keyring (.gpg or .asc) instead of the keys the image trusts")
	fl.StringArrayVar(&f.apkMirrors, "apk-mirror", nil, "replace the base of every apk repository with URL, or a URL prefix with FROM=TO (repeatable)")
	fl.StringVar(&f.apkKeyring, "apk-keyring", "", "verify apk indexes with these RSA public keys (a PEM file or a directory of them) instead of the image's etc/apk/keys")
	fl.StringVar(&f.vex, "vex", "", "write an OpenVEX document of the fixed vulnerabilities to this file")
	fl.BoolVar(&f.dryRun, "dry-run", false, "print the plan (package, from, to, why) without downloading or pushing")
	fl.StringVarP(&f.output, "output", "o", "text", "output format: text or json")
	f.reg.register(cmd)
	return cmd
}

// check validates the flags that need no I/O.
func (f *patchFlags) check() (outputFormat, tags.Convention, error) {
	format, err := parseOutput(f.output)
	if err != nil {
		return "", "", err
	}
	conv, err := tags.ParseConvention(f.convention)
	if err != nil {
		return "", "", usagef("--tag-convention: %v", err)
	}
	if f.report != "" && (f.db != "" || f.skipDBUpdate || len(f.dbRepositories) > 0) {
		return "", "", usagef("--report replaces scanning: --db, --skip-db-update and --db-repository have no effect with it")
	}
	if f.db != "" && len(f.dbRepositories) > 0 {
		return "", "", usagef("--db-repository has no effect with --db, which uses a database as it is")
	}
	if f.vex != "" && f.dryRun {
		return "", "", usagef("--vex has no effect with --dry-run, which pushes nothing")
	}
	for _, m := range f.mirrors {
		to := m
		if _, t, ok := strings.Cut(m, "="); ok {
			to = t
		}
		if !strings.HasPrefix(to, "http://") && !strings.HasPrefix(to, "https://") {
			return "", "", usagef("--apt-mirror %q: want an http(s) URL, or FROM=TO", m)
		}
	}
	if _, err := patch.ParseMirrors(f.apkMirrors); err != nil {
		return "", "", usagef("--apk-mirror: %v", err)
	}
	return format, conv, nil
}

// patchConfig builds the patchers' config from the flags: downloads in
// the data directory, the apt and apk mirrors and keys.
func (f *patchFlags) patchConfig(log *slog.Logger) (patch.Config, error) {
	mirrors, err := patch.ParseMirrors(f.mirrors)
	if err != nil {
		return patch.Config{}, usagef("--apt-mirror: %v", err)
	}
	apkMirrors, err := patch.ParseMirrors(f.apkMirrors)
	if err != nil {
		return patch.Config{}, usagef("--apk-mirror: %v", err)
	}
	return patch.Config{
		DataDir: f.dataDir,
		Logger:  log,
		Repositories: map[string]patch.RepositoryConfig{
			"apt": {Mirrors: mirrors, Keyring: f.keyring, HostKeys: true},
			"apk": {Mirrors: apkMirrors, Keyring: f.apkKeyring},
		},
	}, nil
}

// runPatch runs `patchloop patch`.
func runPatch(cmd *cobra.Command, s *streams, f *patchFlags, arg string) error {
	format, conv, err := f.check()
	if err != nil {
		return err
	}
	if strings.HasPrefix(arg, "oci:") {
		return usagef("patch needs a registry reference to push to, not %q", arg)
	}
	ctx := cmd.Context()
	client, err := f.reg.client(s, imageHost(arg))
	if err != nil {
		return err
	}
	cfg, err := f.patchConfig(stderrLogger(s))
	if err != nil {
		return err
	}
	if p := s.progress(); p.Enabled() {
		cfg.HTTPClient = &http.Client{Transport: p.Transport(nil)}
	}
	patchers, err := patch.New(ctx, cfg)
	if err != nil {
		return err
	}
	opts := patch.Options{
		Client:     client,
		Patchers:   patchers,
		Convention: conv,
		Tag:        f.tag,
		DryRun:     f.dryRun,
		Logger:     stderrLogger(s),
	}
	if f.report != "" {
		if opts.Report, err = readReportFile(f.report); err != nil {
			return err
		}
	} else {
		db, scanner, err := f.scanner(cmd, s, client, arg)
		if err != nil {
			return err
		}
		defer func() { _ = db.Close() }()
		opts.Scan = scanner
	}
	fmt.Fprintf(s.err, "Patching %s…\n", arg)
	res, err := patch.Run(ctx, arg, opts)
	if err != nil {
		return err
	}
	if f.vex != "" && res.Digest != "" {
		if err := writeVEX(f.vex, res); err != nil {
			return err
		}
	}
	if format == outputJSON {
		return writeJSON(s.out, res)
	}
	return writePatchText(s.out, res)
}

// readReportFile reads a Trivy JSON report.
func readReportFile(path string) (*scan.Report, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, usagef("--report: %v", err)
	}
	defer fh.Close()
	rep, err := scan.ReadReport(fh)
	if err != nil {
		return nil, usagef("--report %s: %v", path, err)
	}
	return rep, nil
}

// scanner opens the vulnerability database as `patchloop scan` does
// (updating it unless told not to) and returns a scanner over it.
func (f *patchFlags) scanner(cmd *cobra.Command, s *streams, client *registry.Client, arg string) (*vulndb.DB, patch.Scanner, error) {
	dir := f.db
	if dir == "" {
		dir = dbDir(f.dataDir)
		if !f.skipDBUpdate {
			if err := updateDB(cmd, s, s.err, dir, f.dbRepositories, false, false, client); err != nil {
				return nil, nil, fmt.Errorf("%w (use --skip-db-update to patch with the installed database)", err)
			}
		}
	}
	db, err := vulndb.Open(cmd.Context(), dir)
	if err != nil {
		return nil, nil, err
	}
	cache, err := ospkg.NewDirCache(cacheDir(f.dataDir))
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	log := stderrLogger(s)
	scanner := func(ctx context.Context, img v1.Image, platform string) (*scan.Report, error) {
		fmt.Fprintf(s.err, "Scanning %s%s…\n", arg, inParens(platform))
		return scan.Scan(ctx, img, db, scan.Options{Cache: cache, Logger: log, ArtifactName: arg})
	}
	return db, scanner, nil
}

// writeVEX writes the OpenVEX document of a pushed patch.
func writeVEX(path string, res *patch.Result) error {
	doc, err := patch.OpenVEX(res, time.Now())
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing OpenVEX document: %w", err)
	}
	return nil
}

// writePatchText prints the plan or the pushed reference.
func writePatchText(w io.Writer, res *patch.Result) error {
	if !res.Changed() {
		fmt.Fprintf(w, "Nothing to patch in %s: no fixable vulnerability has a fix in the configured repositories.\n", res.Image)
		writeUnfixed(w, res)
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PACKAGE\tFROM\tTO\tWHY")
	for _, u := range res.Updates {
		from := u.From
		if from == "" {
			from = "(new)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, from, u.To, u.Reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	writeUnfixed(w, res)
	for _, sc := range res.SkippedScripts {
		fmt.Fprintf(w, "Not run: %s maintainer scripts (%s)\n", sc.Package, strings.Join(sc.Scripts, ", "))
	}
	if len(res.Fixed) > 0 {
		fmt.Fprintf(w, "Fixes: %s\n", strings.Join(res.Fixed, ", "))
	}
	if res.DryRun {
		fmt.Fprintf(w, "Dry run: would push %s\n", res.Reference)
		return nil
	}
	fmt.Fprintf(w, "Pushed %s@%s\n", res.Reference, res.Digest)
	return nil
}

// writeUnfixed lists the findings the patch leaves.
func writeUnfixed(w io.Writer, res *patch.Result) {
	for _, u := range res.Unfixed {
		fmt.Fprintf(w, "Not fixed: %s in %s: %s\n", u.VulnerabilityID, u.PkgName, u.Reason)
	}
}
