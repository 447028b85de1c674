package workflow

import (
	"encoding/json"
	"strconv"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
)

func itoa(i int) string { return strconv.Itoa(i) }

// show prints an image status for failure messages.
func show(st ImageStatus) string {
	data, _ := json.Marshal(st)
	return string(data)
}

// jessie returns a Debian 8 image, past its end of service life.
func jessie(t *testing.T) v1.Image {
	return patchtest.Image(t, patchtest.ImageSpec{
		Release:  patchtest.Release{ID: "debian", VersionID: "8", Codename: "jessie", Point: "8.11"},
		Packages: []aptrepo.Package{hello("1.0-1")},
	})
}
