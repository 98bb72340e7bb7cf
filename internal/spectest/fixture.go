package spectest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fixtureDir is the fixture directory relative to the module root.
const fixtureDir = "testdata/invocations"

// Fixture returns the contents of testdata/invocations/<name>.json, where
// name has no .json suffix. It fails the test if the file cannot be read.
func Fixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(Root(t), fixtureDir, name+".json"))
	if err != nil {
		t.Fatalf("spectest: fixture %q: %v", name, err)
	}
	return data
}

// FixtureNames returns the names of all fixtures, sorted and without the
// .json suffix, ready to pass to Fixture.
func FixtureNames(t testing.TB) []string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(Root(t), fixtureDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(matches) == 0 {
		t.Fatalf("spectest: no fixtures in %s", fixtureDir)
	}
	names := make([]string, 0, len(matches))
	for _, m := range matches {
		names = append(names, strings.TrimSuffix(filepath.Base(m), ".json"))
	}
	slices.Sort(names)
	return names
}
