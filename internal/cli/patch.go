package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/patch"
	"github.com/patchloop/patchloop/internal/platform"
	"github.com/patchloop/patchloop/internal/publish"
	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/reportfmt"
	"github.com/patchloop/patchloop/internal/scan"
	"github.com/patchloop/patchloop/internal/tags"
	"github.com/patchloop/patchloop/internal/vulndb"
)

// patchFlags are the flags of `patchloop patch`.
type patchFlags struct {
	image          string
	report         string
	tagSuffix      string
	ignoreFile     string
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
	rpmMirrors     []string
	rpmKeyring     string
	allowUnsigned  bool
	vex            string
	dryRun         bool
	output         string
	reg            registryFlags
	sign           signFlags
}

// newPatchCommand builds `patchloop patch`.
func newPatchCommand(s *streams) *cobra.Command {
	var f patchFlags
	cmd := &cobra.Command{
		Use:   "patch IMAGE | patch -i IMAGE",
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
FROM=TO a URL prefix. RPM-based images (Rocky, Alma, RHEL/UBI, Oracle,
Fedora, Amazon Linux, Azure Linux, openSUSE/SLE…) are patched from the
rpm-md repositories their /etc/yum.repos.d (or zypp/repos.d) enables,
each package's signature verified with the gpgkey= files of the image or
--rpm-keyring; --rpm-mirror replaces repository URLs as --apk-mirror does
(FROM=TO also takes a repository ID), and a repository with gpgcheck=0 is
refused unless --allow-unsigned. Every linux platform of a multi-platform image is patched and a new
index pushed; other platforms keep their original manifests.

The tag is the next incremental patch tag (TAG-1, TAG-2, …) or, with
--tag-convention floating, TAG-patched (overwritten); --tag overrides both.
Maintainer scripts (apk: install scripts and triggers; rpm: scriptlets and file triggers) are not run; the output names the packages that had
some. An image with nothing to fix is left alone (exit code 0, no tag).
--dry-run prints the plan without downloading packages or pushing.

Copa's spellings work too: -i IMAGE, -r REPORT, -t TAG, and --tag-suffix S
(push under ORIGINAL-S). --report may name a directory holding one Trivy
JSON report per platform (any *.json in it): each platform is patched from
the report whose Metadata.ImageConfig has its os and architecture, and a
platform without one is left as it is. Vulnerability IDs listed in
./.trivyignore (or --ignorefile FILE, Trivy's format with exp: dates) are
not fixed.

--cosign-key KEY (a cosign key, password in $COSIGN_PASSWORD, or a PKCS#8
PEM key) and --notation-key KEY --notation-cert CHAIN sign the pushed image;
--attach adds its OpenVEX document, SBOMs and scan reports as signed OCI
referrers; --require-signature-key PUB refuses to patch an image no trusted
key signed (docs/signing.md; check the result with patchloop verify).`,
		Example: `  # Patch an image, scanning it first
  patchloop patch localhost:5000/app:1.0

  # Patch from a Trivy report, through a local Debian mirror, with an OpenVEX document
  patchloop patch localhost:5000/app:1.0 --report report.json \
      --apt-mirror http://mirror.local/debian --vex app.vex.json

  # Sign the patched image and attach its VEX, SBOMs and scan reports
  COSIGN_PASSWORD=… patchloop patch localhost:5000/app:1.0 --cosign-key cosign.key --attach

  # Show what would change
  patchloop patch localhost:5000/app:1.0 --dry-run

  # As Copa spells it, with one Trivy report per platform in ./reports
  patchloop patch -i localhost:5000/app:1.0 -r ./reports -t 1.0-fixed`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			arg := f.image
			switch {
			case len(args) == 1 && f.image != "":
				return usagef("name the image once: as an argument or with -i, not both")
			case len(args) == 1:
				arg = args[0]
			case f.image == "":
				return usagef("patch needs an image: patchloop patch IMAGE (or -i IMAGE)")
			}
			return runPatch(cmd, s, &f, arg)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.image, "image", "i", "", "the image to patch (Copa's spelling; the same as the IMAGE argument)")
	fl.StringVarP(&f.report, "report", "r", "", "Trivy JSON report of the image, or a directory of one report per platform (default: scan the image)")
	fl.StringVar(&f.ignoreFile, "ignorefile", scan.DefaultIgnoreFile, "do not fix the vulnerability IDs listed in this file (Trivy's .trivyignore format)")
	fl.StringVar(&f.db, "db", "", "use the vulnerability database in this directory as it is (no update)")
	fl.BoolVar(&f.skipDBUpdate, "skip-db-update", false, "do not update the database in <data-dir>/db first")
	fl.StringSliceVar(&f.dbRepositories, "db-repository", nil, "database artifact repositories to update from, in order (repeatable)")
	fl.StringVar(&f.dataDir, "data-dir", defaultDataDir, "directory holding the database (db/), the scan cache (cache/) and downloaded packages (apt/, apk/, rpm/)")
	fl.StringVar(&f.convention, "tag-convention", string(tags.Incremental), "patch tag convention: incremental (TAG-N) or floating (TAG-patched)")
	fl.StringVarP(&f.tag, "tag", "t", "", "push under this tag instead of the convention's")
	fl.StringVar(&f.tagSuffix, "tag-suffix", "", "push under ORIGINAL-SUFFIX instead of the convention's tag (Copa's flag)")
	fl.StringArrayVar(&f.mirrors, "apt-mirror", nil, "replace every apt source URI with URL, or one with FROM=TO (repeatable)")
	fl.StringVar(&f.keyring, "keyring", "", "verify repositories with this keyring (.gpg or .asc) instead of the keys the image trusts")
	fl.StringArrayVar(&f.apkMirrors, "apk-mirror", nil, "replace the base of every apk repository with URL, or a URL prefix with FROM=TO (repeatable)")
	fl.StringVar(&f.apkKeyring, "apk-keyring", "", "verify apk indexes with these RSA public keys (a PEM file or a directory of them) instead of the image's etc/apk/keys")
	registerRPMFlags(fl, &f)
	fl.StringVar(&f.vex, "vex", "", "write an OpenVEX document of the fixed vulnerabilities to this file")
	fl.BoolVar(&f.dryRun, "dry-run", false, "print the plan (package, from, to, why) without downloading or pushing")
	fl.StringVarP(&f.output, "output", "o", "text", "output format: text or json")
	f.reg.register(cmd)
	f.sign.register(cmd)
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
	if f.tag != "" && f.tagSuffix != "" {
		return "", "", usagef("--tag and --tag-suffix both name the tag; give one")
	}
	if f.tagSuffix != "" && (strings.ContainsAny(f.tagSuffix, ":/@") || strings.TrimSpace(f.tagSuffix) != f.tagSuffix) {
		return "", "", usagef("--tag-suffix %q: want the end of a tag, for example patched", f.tagSuffix)
	}
	if f.vex != "" && f.dryRun {
		return "", "", usagef("--vex has no effect with --dry-run, which pushes nothing")
	}
	if f.dryRun && (f.sign.cosignKey != "" || f.sign.notationKey != "" || f.sign.oidcTokenFile != "" || f.sign.attach) {
		return "", "", usagef("--cosign-key, --notation-key and --attach have no effect with --dry-run, which pushes nothing")
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
	if _, err := patch.ParseMirrors(f.rpmMirrors); err != nil {
		return "", "", usagef("--rpm-mirror: %v", err)
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
	rpmMirrors, err := patch.ParseMirrors(f.rpmMirrors)
	if err != nil {
		return patch.Config{}, usagef("--rpm-mirror: %v", err)
	}
	return patch.Config{
		DataDir: f.dataDir,
		Logger:  log,
		Repositories: map[string]patch.RepositoryConfig{
			"apt": {Mirrors: mirrors, Keyring: f.keyring, HostKeys: true},
			"apk": {Mirrors: apkMirrors, Keyring: f.apkKeyring},
			"rpm": {Mirrors: rpmMirrors, Keyring: f.rpmKeyring, AllowUnsigned: f.allowUnsigned},
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
	tag, err := f.tagFor(arg)
	if err != nil {
		return err
	}
	ignore, err := loadIgnoreFlag(cmd, f.ignoreFile)
	if err != nil {
		return err
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
	signers, err := f.sign.signers(s.err)
	if err != nil {
		return err
	}
	required, err := f.sign.verifiers()
	if err != nil {
		return err
	}
	patchers, err := patch.New(ctx, cfg)
	if err != nil {
		return err
	}
	opts := patch.Options{
		Client:     client,
		Patchers:   patchers,
		Convention: conv,
		Tag:        tag,
		DryRun:     f.dryRun,
		Logger:     stderrLogger(s),
	}
	if len(required) > 0 {
		opts.VerifyOriginal = publish.CheckOriginal(client, required, stderrLogger(s))
	}
	if f.report != "" {
		reports, dir, err := readReports(f.report)
		if err != nil {
			return err
		}
		for _, r := range reports {
			ignore.Apply(r, time.Now())
		}
		if dir {
			opts.PlatformReports = reports
		} else {
			opts.Report = reports[0]
		}
	} else {
		db, scanner, err := f.scanner(cmd, s, client, arg, ignore)
		if err != nil {
			return err
		}
		defer func() { _ = db.Close() }()
		opts.Scan = scanner
	}
	before := map[string]*scan.Report{} // by original platform digest
	if scanner := opts.Scan; scanner != nil {
		opts.Scan = func(ctx context.Context, img v1.Image, platform string) (*scan.Report, error) {
			rep, err := scanner(ctx, img, platform)
			if d, derr := img.Digest(); err == nil && derr == nil {
				before[d.String()] = rep
			}
			return rep, err
		}
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
	out := patchOutput{Result: res}
	if res.Digest != "" && !res.DryRun && (len(signers) > 0 || f.sign.attach) {
		pub, err := publish.Run(ctx, res, publish.Options{
			Client:  client,
			Signers: signers,
			Attach:  f.sign.attach,
			Before: func(d string) *scan.Report {
				if r, ok := before[d]; ok {
					return r
				}
				for _, pr := range res.Platforms {
					if pr.Original == d && opts.Report != nil {
						return opts.Report
					}
					if pr.Original == d && len(opts.PlatformReports) > 0 {
						return patch.ReportForPlatform(opts.PlatformReports, pr.Platform)
					}
				}
				return nil
			},
			Scan:   opts.Scan,
			Tool:   reportfmt.Tool{Name: "patchloop", Version: buildVersion().Version},
			Logger: stderrLogger(s),
		})
		if err != nil {
			return fmt.Errorf("%s@%s was pushed, but: %w", res.Reference, res.Digest, err)
		}
		out.Published = pub
	}
	if format == outputJSON {
		return writeJSON(s.out, out)
	}
	if err := writePatchText(s.out, res); err != nil {
		return err
	}
	writePublishText(s.out, out.Published)
	return nil
}

// patchOutput is the JSON output of patch: the patch's result, and what
// was signed and attached after the push.
type patchOutput struct {
	*patch.Result
	Published *publish.Result `json:"published,omitempty"`
}

// writePublishText prints the signatures and attachments of a push.
func writePublishText(w io.Writer, pub *publish.Result) {
	if pub == nil {
		return
	}
	if len(pub.Signed) > 0 {
		fmt.Fprintf(w, "Signed: %s\n", strings.Join(pub.Signed, ", "))
	}
	for _, a := range pub.Attachments {
		fmt.Fprintf(w, "Attached: %s %s%s\n", a.Kind, a.Digest, inParens(a.Platform))
	}
	for _, a := range pub.OriginalReferrers {
		fmt.Fprintf(w, "Not copied from the original: %s %s\n", a.ArtifactType, a.Digest)
	}
}

// tagFor is the tag --tag or --tag-suffix names for the image arg; empty
// means the convention's.
func (f *patchFlags) tagFor(arg string) (string, error) {
	if f.tagSuffix == "" {
		return f.tag, nil
	}
	ref, err := name.ParseReference(arg)
	if err != nil {
		return "", usagef("%v", err)
	}
	t, ok := ref.(name.Tag)
	if !ok {
		return "", usagef("--tag-suffix needs an image named by tag, not by digest (%s); use --tag", arg)
	}
	return t.TagStr() + "-" + f.tagSuffix, nil
}

// readReports reads --report: one Trivy JSON report, or every *.json
// report in a directory (dir is true then). A directory without reports,
// or two reports of one platform, is an error naming the files.
func readReports(path string) (reports []*scan.Report, dir bool, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, false, usagef("--report: %v", err)
	}
	if !fi.IsDir() {
		rep, err := readReportFile(path)
		if err != nil {
			return nil, false, err
		}
		return []*scan.Report{rep}, false, nil
	}
	files, err := filepath.Glob(filepath.Join(path, "*.json"))
	if err != nil {
		return nil, true, usagef("--report %s: %v", path, err)
	}
	if len(files) == 0 {
		return nil, true, usagef("--report %s: the directory holds no *.json report", path)
	}
	byPlatform := map[string]string{}
	for _, file := range files {
		rep, err := readReportFile(file)
		if err != nil {
			return nil, true, err
		}
		cfg := rep.Metadata.ImageConfig
		if cfg.OS == "" || cfg.Architecture == "" {
			return nil, true, usagef("--report %s: Metadata.ImageConfig names no os and architecture, so it cannot be matched to a platform", file)
		}
		plat := platform.String(cfg.Platform())
		if other, ok := byPlatform[plat]; ok {
			return nil, true, usagef("--report %s: %s and %s are both reports of %s; keep one", path, filepath.Base(other), filepath.Base(file), plat)
		}
		byPlatform[plat] = file
		reports = append(reports, rep)
	}
	return reports, true, nil
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
func (f *patchFlags) scanner(cmd *cobra.Command, s *streams, client *registry.Client, arg string, ignore *scan.Ignore) (*vulndb.DB, patch.Scanner, error) {
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
		return scan.Scan(ctx, img, db, scan.Options{Cache: cache, Logger: log, ArtifactName: arg, Ignore: ignore})
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

// registerRPMFlags adds the rpm patcher's flags (patch and serve share
// them).
func registerRPMFlags(fl *pflag.FlagSet, f *patchFlags) {
	fl.StringArrayVar(&f.rpmMirrors, "rpm-mirror", nil, "replace the scheme and host of every rpm-md repository URL with URL, or a URL prefix (or repository ID) with FROM=TO (repeatable)")
	fl.StringVar(&f.rpmKeyring, "rpm-keyring", "", "verify rpm repositories and packages with this OpenPGP keyring instead of the gpgkey= files of the image")
	fl.BoolVar(&f.allowUnsigned, "allow-unsigned", false, "install packages from rpm repositories with gpgcheck=0 (refused otherwise)")
}
