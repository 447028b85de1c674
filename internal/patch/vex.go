package patch

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/patchloop/patchloop/internal/ospkg"
)

// OpenVEX v0.2.0 document, as much of it as a patch needs.
const (
	// VEXContext is the OpenVEX context of version 0.2.0.
	VEXContext = "https://openvex.dev/ns/v0.2.0"
	// VEXAuthor is the author of the documents Patchloop writes.
	VEXAuthor = "Patchloop"
	// vexIDBase prefixes the document IDs, which hash the statements.
	vexIDBase = "https://openvex.dev/docs/public/patchloop-"
)

// VEXDocument is an OpenVEX document.
type VEXDocument struct {
	Context    string         `json:"@context"`
	ID         string         `json:"@id"`
	Author     string         `json:"author"`
	Timestamp  string         `json:"timestamp"`
	Version    int            `json:"version"`
	Tooling    string         `json:"tooling,omitempty"`
	Statements []VEXStatement `json:"statements"`
}

// VEXStatement says that the products are fixed for one vulnerability.
type VEXStatement struct {
	Vulnerability VEXVulnerability `json:"vulnerability"`
	Products      []VEXProduct     `json:"products"`
	Status        string           `json:"status"`
}

// VEXVulnerability names a vulnerability.
type VEXVulnerability struct {
	Name string `json:"name"`
}

// VEXProduct is a product (the patched image) and the subcomponents (the
// upgraded packages) the statement is about.
type VEXProduct struct {
	ID            string         `json:"@id"`
	Subcomponents []VEXComponent `json:"subcomponents,omitempty"`
}

// VEXComponent is a package of a product.
type VEXComponent struct {
	ID string `json:"@id"`
}

// OpenVEX returns an OpenVEX document stating that the pushed image is
// fixed for every vulnerability the patch fixed, each with the packages
// upgraded for it as subcomponents. The result must have been pushed.
func OpenVEX(res *Result, now time.Time) (*VEXDocument, error) {
	if res.Digest == "" || res.Reference == "" {
		return nil, errors.New("openvex: the patched image was not pushed")
	}
	product, err := imagePURL(res.Reference, res.Digest)
	if err != nil {
		return nil, err
	}
	doc := &VEXDocument{
		Context:    VEXContext,
		Author:     VEXAuthor,
		Timestamp:  now.UTC().Format(time.RFC3339),
		Version:    1,
		Tooling:    "patchloop",
		Statements: []VEXStatement{},
	}
	for _, id := range res.Fixed {
		p := VEXProduct{ID: product}
		seen := map[string]bool{}
		for _, pr := range res.Platforms {
			if pr.Outcome == nil {
				continue
			}
			for _, u := range pr.Outcome.Updates {
				if !slices.Contains(u.Vulnerabilities, id) {
					continue
				}
				purl := packagePURL(pr.Family, u)
				if !seen[purl] {
					seen[purl] = true
					p.Subcomponents = append(p.Subcomponents, VEXComponent{ID: purl})
				}
			}
		}
		slices.SortFunc(p.Subcomponents, func(a, b VEXComponent) int { return strings.Compare(a.ID, b.ID) })
		doc.Statements = append(doc.Statements, VEXStatement{
			Vulnerability: VEXVulnerability{Name: id},
			Products:      []VEXProduct{p},
			Status:        "fixed",
		})
	}
	body, err := json.Marshal(doc.Statements)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(append([]byte(product+"\n"), body...))
	doc.ID = vexIDBase + hex.EncodeToString(sum[:])
	return doc, nil
}

// imagePURL returns the package URL of an image in a registry:
// pkg:oci/NAME@DIGEST?repository_url=REGISTRY/REPO&tag=TAG.
func imagePURL(reference, digest string) (string, error) {
	ref, err := name.ParseReference(reference)
	if err != nil {
		return "", fmt.Errorf("openvex: %w", err)
	}
	repo := ref.Context()
	short := repo.RepositoryStr()
	if i := strings.LastIndexByte(short, '/'); i >= 0 {
		short = short[i+1:]
	}
	q := url.Values{}
	q.Set("repository_url", repo.RegistryStr()+"/"+repo.RepositoryStr())
	if t, ok := ref.(name.Tag); ok {
		q.Set("tag", t.TagStr())
	}
	return "pkg:oci/" + strings.ToLower(short) + "@" + strings.ReplaceAll(digest, ":", "%3A") + "?" + q.Encode(), nil
}

// packagePURL returns the package URL of an upgraded package, in the form
// Trivy gives dpkg and rpm packages (the epoch as a qualifier:
// pkg:rpm/rocky/NAME@VERSION-RELEASE?arch=…&epoch=1) and apk packages
// (pkg:apk/alpine/NAME@VERSION?arch=…).
func packagePURL(family string, u Update) string {
	if family == "" {
		family = "debian"
	}
	version := u.To
	q := url.Values{}
	if u.Arch != "" {
		q.Set("arch", u.Arch)
	}
	if ospkg.PkgManagerOf(ospkg.Family(family)) == ospkg.Apk {
		s := "pkg:apk/" + family + "/" + url.PathEscape(u.Name) + "@" + url.PathEscape(version)
		if len(q) > 0 {
			s += "?" + q.Encode()
		}
		return s
	}
	if e, rest, ok := strings.Cut(version, ":"); ok && strings.Trim(e, "0123456789") == "" {
		q.Set("epoch", e)
		version = rest
	}
	typ := "deb"
	if ospkg.PkgManagerOf(ospkg.Family(family)) == ospkg.RPM {
		typ = "rpm"
	}
	s := "pkg:" + typ + "/" + family + "/" + url.PathEscape(u.Name) + "@" + url.PathEscape(version)
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}
