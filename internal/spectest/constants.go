package spectest

import (
	"fmt"
	"go/constant"
	"go/types"
	"sync"
	"testing"

	"golang.org/x/tools/go/packages"
)

// Constants returns the string constants of type typeName declared in the
// package pkgPath (a package of this module), by constant name. typeName is
// looked up in that package and may be an alias: for
// Constants(t, ".../client", "StepErrorCode") every constant whose type is
// gen.StepErrorCode counts, whatever its spelling (a literal, a conversion,
// a generated constant). The package is type-checked with go/packages, so a
// constant someone adds is found without editing the caller.
func Constants(t testing.TB, pkgPath, typeName string) map[string]string {
	t.Helper()
	pkg, err := typeCheck(Root(t), pkgPath)
	if err != nil {
		t.Fatal(err)
	}
	scope := pkg.Scope()
	tn, ok := scope.Lookup(typeName).(*types.TypeName)
	if !ok {
		t.Fatalf("spectest: %s has no type %s", pkgPath, typeName)
	}
	want := types.Unalias(tn.Type())
	out := map[string]string{}
	for _, name := range scope.Names() {
		c, ok := scope.Lookup(name).(*types.Const)
		if !ok || !c.Exported() || !types.Identical(types.Unalias(c.Type()), want) {
			continue
		}
		if c.Val().Kind() != constant.String {
			t.Fatalf("spectest: %s.%s is not a string constant", pkgPath, name)
		}
		out[name] = constant.StringVal(c.Val())
	}
	return out
}

// typeChecked caches typeCheck's results: loading a package runs go list,
// which takes seconds.
var typeChecked sync.Map // pkgPath -> func() (*types.Package, error)

// typeCheck returns the types of package pkgPath, loaded from dir.
func typeCheck(dir, pkgPath string) (*types.Package, error) {
	load := func() (*types.Package, error) {
		cfg := &packages.Config{Mode: packages.NeedName | packages.NeedTypes, Dir: dir}
		pkgs, err := packages.Load(cfg, pkgPath)
		if err != nil {
			return nil, fmt.Errorf("spectest: load %s: %w", pkgPath, err)
		}
		if len(pkgs) != 1 || pkgs[0].Types == nil {
			return nil, fmt.Errorf("spectest: load %s: got %d packages", pkgPath, len(pkgs))
		}
		if errs := pkgs[0].Errors; len(errs) > 0 {
			return nil, fmt.Errorf("spectest: type-check %s: %v", pkgPath, errs)
		}
		return pkgs[0].Types, nil
	}
	f, _ := typeChecked.LoadOrStore(pkgPath, sync.OnceValues(load))
	return f.(func() (*types.Package, error))()
}
