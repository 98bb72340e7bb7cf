// Package version holds the SDK's version, the one place it is written.
// `make release` rewrites the constant below; `make check-release` fails
// when it differs from the top released version in CHANGELOG.md. It is
// internal so that a release changes no exported constant: apidiff reports
// a changed constant value as an incompatible change.
package version

// Version is the version of github.com/bctrlhq/sdk-go, without the "v".
const Version = "0.3.0"
