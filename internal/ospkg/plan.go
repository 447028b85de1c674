package ospkg

import "github.com/patchloop/patchloop/internal/imagefs"

// apkRepositoriesFile lists the apk repositories of Alpine images.
const apkRepositoriesFile = "etc/apk/repositories"

// windowsMarkers are files only Windows images have (registry hives, as
// Windows layers store them under Files/).
var windowsMarkers = []string{
	"Files/Windows/System32/config/SOFTWARE",
	"Windows/System32/config/SOFTWARE",
}

// request asks imagefs for the release files and package databases of
// every supported format at once, each under its size cap (see limits.go).
func request() imagefs.Request {
	var files []string
	sizes := map[string]int64{
		dpkgStatusFile:      MaxTextDBSize,
		apkInstalledFile:    MaxTextDBSize,
		apkRepositoriesFile: MaxReleaseFileSize,
		dpkgStatusGlob:      MaxStatusDFileSize,
	}
	for _, g := range buildInfoGlobs {
		sizes[g] = MaxBuildInfoFileSize
	}
	for _, s := range osSources {
		files = append(files, s.path)
		sizes[s.path] = MaxReleaseFileSize
	}
	files = append(files, dpkgStatusFile, apkInstalledFile, apkRepositoriesFile)
	for _, p := range rpmDBPaths {
		files = append(files, p)
		sizes[p] = MaxRPMDBSize
	}
	return imagefs.Request{
		Files:        files,
		Globs:        append([]string{dpkgStatusGlob}, buildInfoGlobs...),
		Stat:         windowsMarkers,
		MaxFileSize:  MaxReleaseFileSize, // every path above has its own cap
		MaxFileSizes: sizes,
		MaxTotalSize: MaxFilesTotal,
		Enough:       enough,
	}
}

// enough decides, between layers, that the inventory can no longer change,
// although the files of other distributions are still unsettled (proving a
// file absent takes reading every layer). It trusts os-release to tell the
// family, then waits until that family's release files and package
// database are settled: for dpkg, the status file and the status.d
// directory, except that a status file found with no status.d entries so
// far is taken as the whole database; for rpm, the first database found.
// Without an os-release naming a known family, every layer is read.
func enough(r *imagefs.Result) bool {
	var family Family
	for _, p := range osReleasePaths {
		n := r.Files[p]
		if n.Kind == imagefs.KindUnknown {
			return false
		}
		if n.Kind == imagefs.KindRegular {
			family = osReleaseHint(n.Content)
			break
		}
	}
	if family == "" {
		return false
	}
	for _, p := range familyFiles[family] {
		if !r.Settled(p) {
			return false
		}
	}
	switch PkgManagerOf(family) {
	case Dpkg:
		if !r.Settled(dpkgStatusFile) {
			return false
		}
		return r.Settled(dpkgStatusGlob) ||
			r.Files[dpkgStatusFile].Kind == imagefs.KindRegular && len(r.Globs[dpkgStatusGlob]) == 0
	case Apk:
		return r.Settled(apkInstalledFile)
	case RPM:
		if usesBuildInfo(family) {
			for _, g := range buildInfoGlobs {
				if !r.Settled(g) {
					return false
				}
			}
		}
		for _, p := range rpmDBPaths {
			if r.Files[p].Kind == imagefs.KindRegular {
				return true
			}
		}
		return false
	}
	return true
}
