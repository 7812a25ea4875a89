package calendar

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

//go:embed data/*.yaml
var embedded embed.FS

const embeddedDir = "data"

// DataError is a problem in a year file: a syntax error, a misplaced or
// missing key, or a date that is invalid, outside the file's year, listed
// twice, or both a holiday and a workday.
type DataError struct {
	File   string // the file's path as given, or data/<year>.yaml when embedded
	Line   int    // 1-based; 0 when the problem is the file as a whole
	Column int    // 1-based; 0 when unknown
	Reason string
}

func (e *DataError) Error() string {
	switch {
	case e.Line == 0:
		return fmt.Sprintf("calendar file %s: %s", e.File, e.Reason)
	case e.Column == 0:
		return fmt.Sprintf("calendar file %s:%d: %s", e.File, e.Line, e.Reason)
	default:
		return fmt.Sprintf("calendar file %s:%d:%d: %s", e.File, e.Line, e.Column, e.Reason)
	}
}

// readDir reads the year files of a configured directory.
func readDir(dir string) (map[int]year, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("read calendar directory: %w", err)
	}
	return readYears(os.DirFS(dir), ".", dir)
}

// readYears parses every *.yaml file in directory dir of fsys, naming the
// files after display in errors. Other files are ignored, except *.yml, which
// is an error rather than a year silently missing.
func readYears(fsys fs.FS, dir, display string) (map[int]year, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read calendar directory %s: %w", display, err)
	}
	years := make(map[int]year)
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			continue
		}
		file := filepath.Join(display, name)
		switch path.Ext(name) {
		case ".yaml":
		case ".yml":
			errs = append(errs, &DataError{File: file, Reason: "name year files <year>.yaml, such as 2027.yaml"})
			continue
		default:
			continue
		}
		src, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			errs = append(errs, fmt.Errorf("read calendar file %s: %w", file, err))
			continue
		}
		y, data, err := parseYear(file, name, src)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		years[y] = data
	}
	return years, errors.Join(errs...)
}

// syntaxLine splits the line number out of yaml.v3's syntax errors, which read
// "yaml: line 3: did not find expected key".
var syntaxLine = regexp.MustCompile(`^yaml: line ([0-9]+): (.*)$`)

// parseYear parses the year file named base, shown as file in errors.
func parseYear(file, base string, src []byte) (int, year, error) {
	stem := strings.TrimSuffix(base, ".yaml")
	if len(stem) != 4 || strings.Trim(stem, "0123456789") != "" {
		return 0, year{}, &DataError{File: file, Reason: "the file name must be the year, such as 2027.yaml"}
	}
	y, _ := strconv.Atoi(stem) // four digits cannot fail

	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		e := &DataError{File: file, Reason: strings.TrimPrefix(err.Error(), "yaml: ")}
		if m := syntaxLine.FindStringSubmatch(err.Error()); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Reason = m[2]
		}
		return 0, year{}, e
	}
	if len(doc.Content) == 0 {
		return 0, year{}, &DataError{File: file, Line: 1, Reason: "the file is empty; want holidays and workdays"}
	}
	p := &parser{
		file: file,
		year: y,
		seen: make(map[date]listed),
		data: year{holidays: make(map[date]string), workdays: make(map[date]string)},
	}
	p.root(doc.Content[0])
	if len(p.errs) > 0 {
		return 0, year{}, errors.Join(p.errs...)
	}
	return y, p.data, nil
}

// parser walks one file's node tree and collects every problem in it, so the
// bureau can fix a file in one go.
type parser struct {
	file string
	year int
	seen map[date]listed
	data year
	errs []error
}

// listed records where a date was first listed.
type listed struct {
	list string // "holiday" or "workday"
	line int
}

func (p *parser) fail(n *yaml.Node, format string, args ...any) {
	p.errs = append(p.errs, &DataError{File: p.file, Line: n.Line, Column: n.Column, Reason: fmt.Sprintf(format, args...)})
}

func (p *parser) root(n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		p.fail(n, "want a mapping with the keys holidays and workdays")
		return
	}
	keys := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if line, dup := keys[k.Value]; dup {
			p.fail(k, "key %q repeats line %d", k.Value, line)
			continue
		}
		keys[k.Value] = k.Line
		switch k.Value {
		case "holidays":
			p.list(v, "holiday", p.data.holidays)
		case "workdays":
			p.list(v, "workday", p.data.workdays)
		case "source":
			if v.Kind != yaml.ScalarNode {
				p.fail(v, "source: want text naming the announcement")
			}
		default:
			p.fail(k, "unknown key %q; want holidays, workdays or source", k.Value)
		}
	}
	for _, want := range []string{"holidays", "workdays"} {
		if _, ok := keys[want]; !ok {
			p.fail(n, "missing key %q (write %s: [] for none)", want, want)
		}
	}
}

// list parses the entries of holidays or workdays into into.
func (p *parser) list(n *yaml.Node, kind string, into map[date]string) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // "workdays:" with nothing after it: none
	}
	if n.Kind != yaml.SequenceNode {
		p.fail(n, "%ss: want a list of {date: YYYY-MM-DD, name: ...}", kind)
		return
	}
	for _, item := range n.Content {
		p.entry(item, kind, into)
	}
}

func (p *parser) entry(n *yaml.Node, kind string, into map[date]string) {
	if n.Kind != yaml.MappingNode {
		p.fail(n, "%s: want {date: YYYY-MM-DD, name: ...}", kind)
		return
	}
	var dateNode, nameNode *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case k.Value == "date" && dateNode == nil:
			dateNode = v
		case k.Value == "name" && nameNode == nil:
			nameNode = v
		case k.Value == "date" || k.Value == "name":
			p.fail(k, "%s: key %q repeats", kind, k.Value)
		default:
			p.fail(k, "%s: unknown key %q; want date and name", kind, k.Value)
		}
	}
	name := ""
	if nameNode != nil {
		if nameNode.Kind != yaml.ScalarNode {
			p.fail(nameNode, "%s: name: want text", kind)
			return
		}
		name = strings.TrimSpace(nameNode.Value)
	}
	if name == "" && kind == "holiday" {
		p.fail(n, "holiday: missing the festival name")
	}
	if dateNode == nil {
		p.fail(n, "%s: missing date", kind)
		return
	}
	t, err := time.Parse(time.DateOnly, dateNode.Value)
	if dateNode.Kind != yaml.ScalarNode || err != nil {
		p.fail(dateNode, "%s: invalid date %q; want YYYY-MM-DD", kind, dateNode.Value)
		return
	}
	d := dateOf(t)
	if d.year != p.year {
		p.fail(dateNode, "%s %s is outside %d", kind, d, p.year)
		return
	}
	if prev, dup := p.seen[d]; dup {
		if prev.list == kind {
			p.fail(dateNode, "%s %s repeats line %d", kind, d, prev.line)
		} else {
			p.fail(dateNode, "%s is both a %s (line %d) and a %s", d, prev.list, prev.line, kind)
		}
		return
	}
	if kind == "workday" && !d.weekend() {
		p.fail(dateNode, "workday %s is a %s, a working day anyway; workdays lists weekend days only", d, t.Weekday())
		return
	}
	p.seen[d] = listed{list: kind, line: dateNode.Line}
	into[d] = name
}
