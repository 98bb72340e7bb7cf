package main

import (
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/gen"
)

// sdkModule is the module path of the SDK, which holds both the client and
// this command.
const sdkModule = "github.com/bctrlhq/sdk-go"

// versionInfo is what "bctrl version" prints; with -o json, as is.
type versionInfo struct {
	Version       string   `json:"version"`        // the main module's version; "(devel)" from a checkout without VCS stamping
	Module        string   `json:"module"`         // the main module's path
	SDKModule     string   `json:"sdk_module"`     // the SDK module
	SDKVersion    string   `json:"sdk_version"`    // its version in this binary, "" if unknown
	ClientVersion string   `json:"client_version"` // client.Version(), sent in the User-Agent
	APITitle      string   `json:"api_title"`      // the spec the SDK was generated from
	APIVersion    string   `json:"api_version"`
	GoVersion     string   `json:"go_version"`
	Platform      string   `json:"platform"` // GOOS/GOARCH
	VCS           *vcsInfo `json:"vcs,omitempty"`
}

// vcsInfo is the commit the binary was built from, when go build recorded it.
type vcsInfo struct {
	Revision string `json:"revision"`
	Time     string `json:"time,omitempty"`
	Modified bool   `json:"modified"`
}

// readVersion gathers versionInfo from the build info, if there is any.
func readVersion(info *debug.BuildInfo, ok bool) versionInfo {
	v := versionInfo{
		Version:       "unknown",
		SDKModule:     sdkModule,
		ClientVersion: client.Version(),
		APITitle:      gen.SpecTitle(),
		APIVersion:    gen.SpecVersion(),
		GoVersion:     runtime.Version(),
		Platform:      runtime.GOOS + "/" + runtime.GOARCH,
	}
	if !ok || info == nil {
		return v
	}
	if info.GoVersion != "" {
		v.GoVersion = info.GoVersion
	}
	v.Module, v.Version = info.Main.Path, info.Main.Version
	if v.Version == "" {
		v.Version = "(devel)"
	}
	if info.Main.Path == sdkModule {
		v.SDKVersion = v.Version
	}
	for _, dep := range info.Deps {
		if dep.Path != sdkModule {
			continue
		}
		v.SDKVersion = dep.Version
		if r := dep.Replace; r != nil {
			// A replaced SDK (a fork or a local checkout): say what was used.
			v.SDKVersion += " => " + r.Path
			if r.Version != "" {
				v.SDKVersion += " " + r.Version
			}
		}
	}
	var vcs vcsInfo
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			vcs.Revision = s.Value
		case "vcs.time":
			vcs.Time = s.Value
		case "vcs.modified":
			vcs.Modified = s.Value == "true"
		}
	}
	if vcs.Revision != "" {
		v.VCS = &vcs
	}
	return v
}

func (a *app) versionCmd() *cobra.Command {
	out := outputFlag{format: &a.output}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the versions of bctrl, the SDK, the API spec and Go",
		Long: `Version prints bctrl's version (the module version from the build info:
a release tag when installed with "go install ...@version", a pseudo-version
or "(devel)" when built from a checkout), the SDK it embeds, the API spec the
SDK was generated from, and the Go toolchain that built it. It needs no API
key and sends no request.`,
		Example: `  bctrl version
  bctrl version -o json | jq -r .api_version`,
		Args: cobra.NoArgs,
		RunE: markRan(func(cmd *cobra.Command, _ []string) error {
			if err := out.check(); err != nil {
				return err
			}
			v := readVersion(a.buildInfo())
			if out.json() {
				return a.printJSONValue(v)
			}
			a.printVersion(v)
			return nil
		}),
	}
	out.register(cmd, "output format: text or json")
	return cmd
}

// printVersion writes v as text; "bctrl --version" prints the same.
func (a *app) printVersion(v versionInfo) {
	tw := newTable(a.stdout)
	field := func(name literal, value string) { tw.row(string(name)+":", value) }
	field("bctrl", v.Version)
	if v.Module != "" && v.Module != sdkModule {
		field("Module", v.Module)
	}
	sdk := v.SDKModule
	if v.SDKVersion != "" {
		sdk += " " + v.SDKVersion
	}
	field("SDK", sdk)
	field("Client", v.ClientVersion)
	field("API spec", v.APITitle+" "+v.APIVersion)
	field("Go", v.GoVersion+" "+v.Platform)
	if c := v.VCS; c != nil {
		commit := c.Revision
		if c.Time != "" {
			commit += " " + c.Time
		}
		if c.Modified {
			commit += " (modified)"
		}
		field("Commit", commit)
	}
	tw.flush()
}
