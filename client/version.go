package client

import "github.com/bctrlhq/sdk-go/internal/version"

// Version returns the SDK's version, such as "0.2.0": the one released as
// the tag v0.2.0 and sent in the User-Agent header (bctrl-go/0.2.0).
// It is a function, not a constant, so that a release changes no exported
// constant.
func Version() string { return version.Version }
