// Package benchmarks measures the SDK's read path against the other ways a
// Go team could read the same API, over loopback and for the same bytes:
// the client ogen generates from the same spec (package ogenclient), the
// raw oapi-codegen client (client.Client.Raw), a hand-written
// encoding/json decode, and a floor that only reads the body and checks
// that it is JSON. Run it as `make bench` from the repository root;
// BENCHMARKS.md records the results.
//
// It is a module of its own so that ogen, its runtime and the rest of what
// this comparison needs never enter the SDK's module graph: users who go
// get the SDK, and the SDK's own go.mod, never see them.
//
// The package holds only tests; ogenclient holds the generated client,
// which gen-ogen.sh regenerates from ../openapi.yaml.
package benchmarks

//go:generate bash gen-ogen.sh
