package ospkg

import "strings"

// OS is the operating system of an image.
type OS struct {
	// Family is the distribution, as Trivy names it.
	Family Family `json:"family"`
	// Name is the release exactly as Trivy reports it in OS.Name: "12.5"
	// for Debian, "22.04" for Ubuntu, "3.19.1" for Alpine, "9.3" for Rocky,
	// "2 (Karoo)" or "2023.3.20240219 (Amazon Linux)" for Amazon Linux.
	Name string `json:"name"`
}

// Version returns the release without the codename Trivy keeps for Amazon
// Linux: the first word of Name ("2", "2023.3.20240219", "12.5").
func (o OS) Version() string {
	if f := strings.Fields(o.Name); len(f) > 0 {
		return f[0]
	}
	return ""
}

// String returns "family/name".
func (o OS) String() string {
	if o.Name == "" {
		return string(o.Family)
	}
	return string(o.Family) + "/" + o.Name
}

// Repository is the package repository release an image points at; Trivy
// reads it from etc/apk/repositories.
type Repository struct {
	// Family is the distribution of the repository URLs.
	Family Family `json:"family"`
	// Release is the highest release among them ("3.19", or "edge").
	Release string `json:"release"`
}
