package apt

import (
	"crypto/md5"
	"encoding/hex"
)

// conffileAction is what happens to one conffile of a new package.
type conffileAction int

const (
	// installConffile writes the new version over the file.
	installConffile conffileAction = iota
	// keepConffile leaves the file as it is.
	keepConffile
	// keepWithDist leaves the file and writes the new version beside it
	// as <path>.dpkg-dist.
	keepWithDist
)

// String names the action for logs.
func (a conffileAction) String() string {
	switch a {
	case keepConffile:
		return "keep"
	case keepWithDist:
		return "keep, new version as .dpkg-dist"
	}
	return "install"
}

// decideConffile does what dpkg does non-interactively with its default
// of keeping the administrator's version (--force-confold): a file the
// user left as shipped (its md5 equals the one the old status records)
// gets the new version; a file the user changed is kept, with the new
// version beside it as .dpkg-dist unless the package did not change it
// (or the user's file already equals it); a file the user deleted stays
// deleted. A conffile new to the package is installed unless a different
// file is already there.
func decideConffile(recorded string, wasConffile bool, current []byte, exists bool, newMD5 string) conffileAction {
	cur := ""
	if exists {
		cur = md5Hex(current)
	}
	switch {
	case !wasConffile && !exists:
		return installConffile
	case !wasConffile && cur == newMD5:
		return keepConffile
	case !wasConffile:
		return keepWithDist
	case !exists:
		return keepConffile // deleted by the user: dpkg leaves it deleted
	case cur == recorded:
		return installConffile
	case cur == newMD5 || recorded == newMD5:
		return keepConffile
	}
	return keepWithDist
}

// md5Hex returns the lower-case hex md5 of data.
func md5Hex(data []byte) string {
	sum := md5.Sum(data)
	return hex.EncodeToString(sum[:])
}
