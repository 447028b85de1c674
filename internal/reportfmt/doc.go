// Package reportfmt writes scan reports in the formats other tools read:
// SARIF 2.1.0 for code-scanning dashboards (GitHub's among them), and
// CycloneDX and SPDX software bills of materials listing the image's OS
// packages with their package URLs. The SBOMs are built with the
// CycloneDX and SPDX projects' own Go libraries, so they are what those
// libraries (and the tools built on them) read.
//
// It sits beside internal/scan rather than inside it so that the SBOM
// libraries are linked only into the command line, not into the service's
// scan and patch tasks.
package reportfmt
