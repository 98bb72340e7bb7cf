package spectest

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oapi-codegen/oapi-codegen/v2/pkg/codegen"
	"github.com/oapi-codegen/oapi-codegen/v2/pkg/util"
	"go.yaml.in/yaml/v3"
)

// generatorConfig is the part of oapi-codegen.yaml (the config gen/ is
// generated with) that decides names and the overlay.
type generatorConfig struct {
	codegen.Configuration `yaml:",inline"`
	Output                string `yaml:"output"`
}

// generator is what oapi-codegen sees: the spec with the config's overlay
// applied, and the config's name normalizer.
type generator struct {
	doc       *openapi3.T
	normalize codegen.NameNormalizer
}

var generatorOnce = sync.OnceValues(func() (*generator, error) {
	root, err := rootOnce()
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(root, "oapi-codegen.yaml"))
	if err != nil {
		return nil, fmt.Errorf("spectest: %w", err)
	}
	var cfg generatorConfig
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("spectest: parse oapi-codegen.yaml: %w", err)
	}
	nn := codegen.NameNormalizerFunction(cfg.OutputOptions.NameNormalizer)
	normalize, ok := codegen.NameNormalizers[nn]
	if !ok {
		return nil, fmt.Errorf("spectest: oapi-codegen.yaml: unknown name-normalizer %q", nn)
	}
	// go generate runs in gen/, so the config's paths are relative to it.
	// Strict by default, as oapi-codegen's command applies it; no remote
	// $refs are fetched.
	opts := util.LoadSwaggerWithOverlayOpts{Strict: true, AllowRemoteRefsFrom: []string{}}
	if p := cfg.OutputOptions.Overlay.Path; p != "" {
		opts.Path = filepath.Join(root, "gen", p)
	}
	if s := cfg.OutputOptions.Overlay.Strict; s != nil {
		opts.Strict = *s
	}
	doc, err := util.LoadSwaggerWithOverlay(filepath.Join(root, "openapi.yaml"), opts)
	if err != nil {
		return nil, fmt.Errorf("spectest: load the spec as oapi-codegen does: %w", err)
	}
	return &generator{doc: doc, normalize: normalize}, nil
})

// LoadGenerated returns openapi.yaml as oapi-codegen sees it when it
// generates gen/: with the overlay named in oapi-codegen.yaml applied (so
// pinned operationIds, date-time formats and x-go-* extensions are there).
// The document is loaded once per process and shared, so callers must not
// modify it. Use Load for the spec as the API publishes it.
func LoadGenerated(t testing.TB) *openapi3.T {
	t.Helper()
	g, err := generatorOnce()
	if err != nil {
		t.Fatal(err)
	}
	return g.doc
}

// GoName returns the Go name oapi-codegen gives an operationId (or a schema
// name), with the name normalizer configured in oapi-codegen.yaml: the
// generated client's method for operationId "getInvocation" is
// GoName("getInvocation") == "GetInvocation".
func GoName(t testing.TB, id string) string {
	t.Helper()
	g, err := generatorOnce()
	if err != nil {
		t.Fatal(err)
	}
	return g.normalize(id)
}
