package intake

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed defaults/*.yaml
var embedded embed.FS

// Defaults returns the default flow files embedded in the binary, for
// [Load] and [NewWatcher].
func Defaults() fs.FS {
	sub, err := fs.Sub(embedded, "defaults")
	if err != nil {
		// fs.Sub fails only on an invalid directory name, and "defaults" is valid.
		panic("intake: embedded defaults: " + err.Error())
	}
	return sub
}

// LoadError is a problem in one definition file, reported as file:line:
// reason.
type LoadError struct {
	File   string // the file's path, or defaults/<name> when embedded
	Line   int    // 1-based; 0 when the problem is the file as a whole
	Reason string
}

// Error reads file:line: reason.
func (e *LoadError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Reason)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason)
}

// Special file names; every other *.yaml file is one flow.
const (
	menuFileName  = "menu.yaml"
	textsFileName = "texts.yaml"
)

func isKBFile(name string) bool {
	return name == "kb.yaml" || strings.HasPrefix(name, "kb-") && strings.HasSuffix(name, ".yaml")
}

// source is one file to load.
type source struct {
	display  string // the name in errors
	data     []byte
	override bool // from the configured directory
}

// Load reads the definition files: every *.yaml file at the root of
// defaults, then every *.yaml file in overrideDir (when not empty), which
// replaces a default file of the same name or adds a new one. It checks
// everything a citizen could trip over and returns all problems found,
// each a [*LoadError], joined.
func Load(defaults fs.FS, overrideDir string) (*Set, error) {
	files := make(map[string]source)
	if err := readFiles(defaults, "defaults", false, files); err != nil {
		return nil, err
	}
	if overrideDir != "" {
		if err := readFiles(os.DirFS(overrideDir), overrideDir, true, files); err != nil {
			return nil, err
		}
	}
	return parse(files)
}

// readFiles adds the *.yaml files at the root of fsys to files, shown in
// errors under display.
func readFiles(fsys fs.FS, display string, override bool, files map[string]source) error {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return fmt.Errorf("read flow directory %s: %w", display, err)
	}
	var misnamed []error
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") {
			continue
		}
		if path.Ext(name) == ".yml" {
			misnamed = append(misnamed, &LoadError{File: filepath.Join(display, name), Reason: "name definition files *.yaml, or this one is ignored"})
			continue
		}
		if path.Ext(name) != ".yaml" {
			continue
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return fmt.Errorf("read flow file %s: %w", filepath.Join(display, name), err)
		}
		files[name] = source{display: filepath.Join(display, name), data: data, override: override}
	}
	return errors.Join(misnamed...)
}

// loader collects every problem of a load, so a bureau fixes its files in one go.
type loader struct {
	errs []error
}

func (l *loader) fail(file string, n *yaml.Node, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	l.errs = append(l.errs, &LoadError{File: file, Line: line, Reason: fmt.Sprintf(format, args...)})
}

var (
	yamlLine  = regexp.MustCompile(`^(?:yaml: )?line ([0-9]+): (.*)$`)
	yamlField = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	yamlInto  = regexp.MustCompile(` into \S+$`)
)

// decode parses one file strictly into v and returns its root node for line
// numbers, or nil after recording the errors.
func (l *loader) decode(src source, v any) *yaml.Node {
	var doc yaml.Node
	if err := yaml.Unmarshal(src.data, &doc); err != nil {
		l.yamlError(src.display, err)
		return nil
	}
	if len(doc.Content) == 0 {
		l.errs = append(l.errs, &LoadError{File: src.display, Line: 1, Reason: "the file is empty"})
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		l.fail(src.display, root, "want a mapping of keys")
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(src.data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		l.yamlError(src.display, err)
		return nil
	}
	return root
}

// yamlError turns yaml.v3's errors ("yaml: line 3: …", or a TypeError with
// one "line 7: field foo not found in type …" per problem) into LoadErrors.
func (l *loader) yamlError(file string, err error) {
	var msgs []string
	if te, ok := errors.AsType[*yaml.TypeError](err); ok {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	for _, m := range msgs {
		e := &LoadError{File: file, Reason: strings.TrimPrefix(m, "yaml: ")}
		if g := yamlLine.FindStringSubmatch(m); g != nil {
			e.Line, _ = strconv.Atoi(g[1]) // digits by the pattern
			e.Reason = g[2]
		}
		if g := yamlField.FindStringSubmatch(e.Reason); g != nil {
			e.Reason = fmt.Sprintf("unknown key %q", g[1])
		} else {
			e.Reason = yamlInto.ReplaceAllString(e.Reason, "")
		}
		l.errs = append(l.errs, e)
	}
}

// node follows keys (strings) and indexes (ints) from n and returns the
// deepest node found, so that an error points as close as it can.
func node(n *yaml.Node, path ...any) *yaml.Node {
	for _, p := range path {
		var next *yaml.Node
		switch p := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == p {
						next = n.Content[i+1]
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && p < len(n.Content) {
				next = n.Content[p]
			}
		}
		if next == nil {
			return n
		}
		n = next
	}
	return n
}

// keyNode is the key node of key in mapping n, or n.
func keyNode(n *yaml.Node, key string) *yaml.Node {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i]
			}
		}
	}
	return n
}

var idRE = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

// parse checks and compiles the files into a Set.
func parse(files map[string]source) (*Set, error) {
	l := &loader{}
	s := &Set{flows: make(map[string]*flow)}
	// Defaults first, so that a clash is blamed on the bureau's file.
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		if files[a].override != files[b].override {
			if files[a].override {
				return 1
			}
			return -1
		}
		return strings.Compare(a, b)
	})

	var menuRoot, textsRoot *yaml.Node
	var menuSrc source
	type kbDoc struct {
		src  source
		root *yaml.Node
		file kbFile
	}
	var kbs []kbDoc
	var intents intentsFile
	var intentsRoot *yaml.Node
	var intentsSrc source
	type guideDoc struct {
		src  source
		root *yaml.Node
		file guideFile
	}
	var guideDocs []guideDoc
	flowRoots := make(map[string]*yaml.Node) // flow ID → its file's root, for the guide it names
	flowAt := make(map[string]string)        // flow ID → file that defined it
	for _, name := range names {
		src := files[name]
		switch {
		case name == menuFileName:
			menuSrc = src
			menuRoot = l.decode(src, &s.menu)
		case name == textsFileName:
			if textsRoot = l.decode(src, &s.texts); textsRoot != nil {
				l.checkTexts(src.display, textsRoot, &s.texts)
			}
		case name == intentsFileName:
			intentsSrc = src
			intentsRoot = l.decode(src, &intents)
		case isGuideFile(name):
			var g guideFile
			if root := l.decode(src, &g); root != nil {
				guideDocs = append(guideDocs, guideDoc{src: src, root: root, file: g})
			}
		case isKBFile(name):
			var k kbFile
			if root := l.decode(src, &k); root != nil {
				kbs = append(kbs, kbDoc{src: src, root: root, file: k})
			}
		default:
			var ff flowFile
			root := l.decode(src, &ff)
			if root == nil {
				continue
			}
			f := l.checkFlow(src.display, root, &ff)
			if f == nil {
				continue
			}
			if prev, dup := flowAt[f.ID]; dup {
				l.fail(src.display, node(root, "id"), "flow id %q is already defined in %s", f.ID, prev)
				continue
			}
			flowAt[f.ID] = src.display
			flowRoots[f.ID] = root
			s.flows[f.ID] = f
			s.order = append(s.order, f.ID)
		}
	}
	if _, ok := files[menuFileName]; !ok {
		l.errs = append(l.errs, &LoadError{File: menuFileName, Reason: "missing: the main menu is required"})
	}
	if _, ok := files[textsFileName]; !ok {
		l.errs = append(l.errs, &LoadError{File: textsFileName, Reason: "missing: the interpreter's texts are required"})
	}

	lines := make(map[string]bool)
	for _, f := range s.flows {
		lines[f.Line] = true
	}
	kbIDs := make(map[string]string)
	for _, k := range kbs {
		for i, e := range k.file.Entries {
			at := node(k.root, "entries", i)
			if !l.checkKB(k.src.display, at, e, lines) {
				continue
			}
			if prev, dup := kbIDs[e.ID]; dup {
				l.fail(k.src.display, node(at, "id"), "knowledge-base id %q is already used in %s", e.ID, prev)
				continue
			}
			kbIDs[e.ID] = k.src.display
			if e.Featured {
				s.featured = append(s.featured, len(s.kb))
				if len(s.featured) == 10 {
					l.fail(k.src.display, node(at, "featured"), "more than 9 featured questions: the list must be answerable with one digit")
				}
			}
			e.parts = keywordParts(e.Keywords)
			s.kb = append(s.kb, e)
		}
	}
	guideIDs := make(map[string]string)
	for _, d := range guideDocs {
		for i, g := range d.file.Guides {
			at := node(d.root, "guides", i)
			if !l.checkGuide(d.src.display, at, g, lines) {
				continue
			}
			if prev, dup := guideIDs[g.ID]; dup {
				l.fail(d.src.display, node(at, "id"), "guide id %q is already used in %s", g.ID, prev)
				continue
			}
			guideIDs[g.ID] = d.src.display
			s.guides = append(s.guides, g)
			s.guideKeys = append(s.guideKeys, keywordParts(g.Keywords))
		}
	}
	for _, id := range s.order {
		f := s.flows[id]
		if f.Guide == "" {
			continue
		}
		i := slices.IndexFunc(s.guides, func(g guideDef) bool { return g.ID == f.Guide })
		switch {
		case i < 0:
			l.fail(flowAt[id], node(flowRoots[id], "guide"), "guide %q: no guide has that id", f.Guide)
		case s.guides[i].Line != f.Line:
			l.fail(flowAt[id], node(flowRoots[id], "guide"), "guide %q is of line %q, the flow of line %q", f.Guide, s.guides[i].Line, f.Line)
		}
	}
	if intentsRoot != nil {
		s.intents = l.checkIntents(intentsSrc.display, intentsRoot, &intents, s.flows, lines)
	}
	if menuRoot != nil {
		s.commands = l.checkMenu(menuSrc.display, menuRoot, &s.menu, s.flows)
	}
	// The main menu answers most messages: its options and the words
	// that pick them are prepared once.
	for i, it := range s.menu.Items {
		s.menuOptions = append(s.menuOptions, Choice{ID: strconv.Itoa(i + 1), Text: it.Label})
		s.menuNames = append(s.menuNames, cleanNames(it.Label))
	}
	if len(l.errs) > 0 {
		return nil, errors.Join(l.errs...)
	}
	return s, nil
}

// checkTexts requires every text, and the fixed option lists at their sizes.
func (l *loader) checkTexts(file string, root *yaml.Node, t *texts) {
	v := reflect.ValueOf(t).Elem()
	for i := range v.NumField() {
		key, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
		f := v.Field(i)
		if f.Len() == 0 {
			l.fail(file, root, "missing text %q", key)
			continue
		}
		if f.Kind() == reflect.Slice {
			for j := range f.Len() {
				if strings.TrimSpace(f.Index(j).String()) == "" {
					l.fail(file, node(root, key, j), "%s: empty entry", key)
				}
			}
		}
	}
	if t.Office != "" && !strings.Contains(t.Office, "{name}") {
		l.fail(file, node(root, "office"), "office: must name the office with {name}")
	}
	for key, want := range map[string]int{"confirm_options": 3, "feedback_options": 2, "kb_none_options": 2, "guide_offer_options": 2, "consent_options": 2} {
		if n := node(root, key); n.Kind == yaml.SequenceNode && len(n.Content) != want {
			l.fail(file, n, "%s: want %d options, have %d", key, want, len(n.Content))
		}
	}
	if t.ConsentNotice != "" && !strings.Contains(t.ConsentNotice, "{retention}") {
		l.fail(file, node(root, "consent_notice"), "consent_notice: must say how long data is kept with {retention}")
	}
	for key, text := range map[string]string{"retention_years": t.RetentionYears, "retention_days": t.RetentionDays} {
		if text != "" && !strings.Contains(text, "{n}") {
			l.fail(file, node(root, key), "%s: must hold the number as {n}", key)
		}
	}
	for _, k := range []string{KindImage, KindVideo, KindLocation, KindLink} {
		if t.Kinds[k] == "" && len(t.Kinds) > 0 {
			l.fail(file, node(root, "kinds"), "kinds: missing the name of %q", k)
		}
	}
}

// checkFlow checks one flow file and compiles it, or returns nil.
func (l *loader) checkFlow(file string, root *yaml.Node, ff *flowFile) *flow {
	before := len(l.errs)
	switch {
	case ff.ID == "":
		l.fail(file, root, "missing id")
	case !idRE.MatchString(ff.ID):
		l.fail(file, node(root, "id"), "id %q: use lower-case letters, digits, _ and -", ff.ID)
	}
	if strings.TrimSpace(ff.Title) == "" {
		l.fail(file, root, "missing title")
	}
	switch {
	case ff.Line == "":
		l.fail(file, root, "missing line (the service line key, such as relief)")
	case !idRE.MatchString(ff.Line):
		l.fail(file, node(root, "line"), "line %q: use lower-case letters, digits, _ and -", ff.Line)
	}
	if ff.Inquiry != "" && !slices.Contains(InquiryTypes(), ff.Inquiry) {
		l.fail(file, node(root, "inquiry"), "unknown inquiry type %q; want one of %s", ff.Inquiry, strings.Join(InquiryTypes(), ", "))
	}
	if len(ff.Steps) == 0 {
		l.fail(file, root, "a flow needs steps")
		return nil
	}
	checkOutcome := func(at *yaml.Node, name string, o outcomeDef) {
		switch o.Kind {
		case OutcomeTicket, OutcomeHandover:
		case OutcomeAnswer:
			if strings.TrimSpace(o.Text) == "" {
				l.fail(file, at, "%s: an answer needs its text", name)
			}
		default:
			l.fail(file, node(at, "kind"), "%s: unknown kind %q; want ticket, answer or handover", name, o.Kind)
		}
	}
	if ff.Outcome == nil {
		l.fail(file, root, "missing outcome (ticket, answer or handover)")
	} else {
		checkOutcome(node(root, "outcome"), "outcome", *ff.Outcome)
	}
	for name, o := range ff.Endings {
		at := node(root, "endings", name)
		if !idRE.MatchString(name) || name == endTarget {
			l.fail(file, keyNode(node(root, "endings"), name), "ending %q: use lower-case letters, digits, _ and -, and not %q", name, endTarget)
		}
		checkOutcome(at, "ending "+name, o)
	}

	f := &flow{flowFile: *ff, index: make(map[string]int, len(ff.Steps))}
	hasInquiryStep := false
	for i, st := range ff.Steps {
		at := node(root, "steps", i)
		switch {
		case st.ID == "":
			l.fail(file, at, "step %d: missing id", i+1)
		case !idRE.MatchString(st.ID):
			l.fail(file, node(at, "id"), "step id %q: use lower-case letters, digits, _ and -", st.ID)
		case st.ID == endTarget:
			l.fail(file, node(at, "id"), "step id %q is reserved for the outcome", st.ID)
		default:
			if j, dup := f.index[st.ID]; dup {
				l.fail(file, node(at, "id"), "duplicate step id %q (first at line %d)", st.ID, node(root, "steps", j).Line)
			} else if _, clash := ff.Endings[st.ID]; clash {
				l.fail(file, node(at, "id"), "step id %q is also an ending", st.ID)
			} else {
				f.index[st.ID] = i
			}
		}
		l.checkStep(file, at, st)
		if st.Field == "inquiry" {
			hasInquiryStep = true
		}
	}
	usesTicket := ff.Outcome != nil && ff.Outcome.Kind == OutcomeTicket
	for _, o := range ff.Endings {
		usesTicket = usesTicket || o.Kind == OutcomeTicket
	}
	if usesTicket && ff.Inquiry == "" && !hasInquiryStep {
		l.fail(file, root, "a flow that opens tickets needs an inquiry type: a step saving \"inquiry\" or a flow-level inquiry")
	}
	if len(l.errs) > before {
		return nil
	}
	// Targets, now that every step ID is known.
	target := func(at *yaml.Node, t string) {
		if _, ok := f.index[t]; ok || t == "" || t == endTarget {
			return
		}
		if _, ok := ff.Endings[t]; ok {
			return
		}
		l.fail(file, at, "next %q points nowhere: no step or ending has that id", t)
	}
	for i, st := range ff.Steps {
		at := node(root, "steps", i)
		target(node(at, "next"), st.Next)
		for j, o := range st.Options {
			target(node(at, "options", j, "next"), o.Next)
		}
	}
	if len(l.errs) > before {
		return nil
	}
	for _, i := range f.trapped() {
		l.fail(file, node(root, "steps", i), "step %q can never reach the end of the flow (its next steps loop)", ff.Steps[i].ID)
	}
	if len(l.errs) > before {
		return nil
	}
	return f
}

// checkStep checks the keys of one step against its type.
func (l *loader) checkStep(file string, at *yaml.Node, st stepDef) {
	name := st.ID
	if !slices.Contains(stepTypes(), st.Type) {
		l.fail(file, node(at, "type"), "step %q: unknown type %q; want one of %s", name, st.Type, strings.Join(stepTypes(), ", "))
		return
	}
	if st.Type != typeConfirm && strings.TrimSpace(st.Ask) == "" {
		l.fail(file, at, "step %q: missing ask (the question)", name)
	}
	switch {
	case st.Type == typeConfirm || st.Type == typeAttach:
		if st.Field != "" {
			l.fail(file, node(at, "field"), "step %q: a %s step saves no field", name, st.Type)
		}
	case st.Field == "":
		l.fail(file, at, "step %q: missing field (where the answer is saved)", name)
	case strings.HasPrefix(st.Field, "_"):
		l.fail(file, node(at, "field"), "step %q: fields starting with _ are reserved", name)
	case strings.TrimSpace(st.Label) == "":
		l.fail(file, at, "step %q: missing label (the answer's name in the summary)", name)
	}
	if st.Type == typeChoice {
		switch {
		case len(st.Options) == 0:
			l.fail(file, at, "step %q: a choice needs options", name)
		case len(st.Options) > 9:
			l.fail(file, node(at, "options", 9), "step %q: at most 9 options, so one digit answers", name)
		}
		seen := make(map[string]bool)
		for j, o := range st.Options {
			if strings.TrimSpace(o.Label) == "" {
				l.fail(file, node(at, "options", j), "step %q: option %d has no label", name, j+1)
			} else if seen[o.Label] {
				l.fail(file, node(at, "options", j), "step %q: option %q is listed twice", name, o.Label)
			}
			seen[o.Label] = true
			if st.Field == "inquiry" && !slices.Contains(InquiryTypes(), o.value()) {
				l.fail(file, node(at, "options", j), "step %q: inquiry value %q; want one of %s", name, o.value(), strings.Join(InquiryTypes(), ", "))
			}
		}
	} else if len(st.Options) > 0 {
		l.fail(file, node(at, "options"), "step %q: options are for choice steps only", name)
	}
	if st.Field == "inquiry" && st.Type != typeChoice {
		l.fail(file, node(at, "field"), "step %q: the inquiry type must be asked as a choice", name)
	}
	if st.Optional && (st.Type == typeChoice || st.Type == typeConfirm || st.Type == typeAttach) {
		l.fail(file, node(at, "optional"), "step %q: a %s step cannot be optional", name, st.Type)
	}
	if st.Type != typeText && (st.Min != 0 || st.Max != 0) {
		l.fail(file, node(at, "max"), "step %q: min and max are for text steps only", name)
	}
	if st.Min < 0 || st.Max < 0 || st.Max > maxText || (st.Max > 0 && st.Min > st.Max) {
		l.fail(file, node(at, "max"), "step %q: want 0 <= min <= max <= %d", name, maxText)
	}
	if st.When != "" && (st.Type != typeDate || st.When != "past" && st.When != "future" && st.When != whenWorkday) {
		l.fail(file, node(at, "when"), "step %q: when is past, future or workday, on date steps only", name)
	}
}

// checkKB checks one knowledge-base entry.
func (l *loader) checkKB(file string, at *yaml.Node, e kbEntry, lines map[string]bool) bool {
	before := len(l.errs)
	if !idRE.MatchString(e.ID) {
		l.fail(file, at, "knowledge-base entry: id %q: use lower-case letters, digits, _ and -", e.ID)
	}
	if strings.TrimSpace(e.Question) == "" {
		l.fail(file, at, "knowledge-base entry %q: missing question", e.ID)
	}
	if strings.TrimSpace(e.Answer) == "" {
		l.fail(file, at, "knowledge-base entry %q: missing answer", e.ID)
	}
	if len(e.Keywords) == 0 {
		l.fail(file, at, "knowledge-base entry %q: missing keywords", e.ID)
	}
	for j, k := range e.Keywords {
		for part := range strings.SplitSeq(k, "+") {
			if strings.TrimSpace(part) == "" {
				l.fail(file, node(at, "keywords", j), "knowledge-base entry %q: empty keyword in %q", e.ID, k)
				break
			}
		}
	}
	if e.Line != "" && !lines[e.Line] {
		l.fail(file, node(at, "line"), "knowledge-base entry %q: no flow serves line %q", e.ID, e.Line)
	}
	return len(l.errs) == before
}

// keywordParts normalises keywords and splits each on "+" once, at load
// time, rather than for every message.
func keywordParts(keywords []string) [][]string {
	var out [][]string
	for _, k := range keywords {
		parts := strings.Split(fold(k), "+")
		for j := range parts {
			parts[j] = strings.TrimSpace(parts[j])
		}
		out = append(out, parts)
	}
	return out
}

// checkGuide checks one service guide.
func (l *loader) checkGuide(file string, at *yaml.Node, g guideDef, lines map[string]bool) bool {
	before := len(l.errs)
	if !idRE.MatchString(g.ID) {
		l.fail(file, node(at, "id"), "guide: id %q: use lower-case letters, digits, _ and -", g.ID)
	}
	if strings.TrimSpace(g.Title) == "" {
		l.fail(file, at, "guide %q: missing title", g.ID)
	}
	switch {
	case g.Line == "":
		l.fail(file, at, "guide %q: missing line (the service line key, such as relief)", g.ID)
	case !lines[g.Line]:
		l.fail(file, node(at, "line"), "guide %q: unknown line %q: no flow serves it", g.ID, g.Line)
	}
	if g.Inquiry != "" && !slices.Contains(InquiryTypes(), g.Inquiry) {
		l.fail(file, node(at, "inquiry"), "guide %q: unknown inquiry type %q; want one of %s", g.ID, g.Inquiry, strings.Join(InquiryTypes(), ", "))
	}
	for j, m := range g.Materials {
		if strings.TrimSpace(m) == "" {
			l.fail(file, node(at, "materials", j), "guide %q: empty material", g.ID)
		}
	}
	for j, b := range g.Basis {
		if strings.TrimSpace(b) == "" {
			l.fail(file, node(at, "basis", j), "guide %q: empty basis", g.ID)
		}
	}
	for j, k := range g.Keywords {
		for part := range strings.SplitSeq(k, "+") {
			if strings.TrimSpace(part) == "" {
				l.fail(file, node(at, "keywords", j), "guide %q: empty keyword in %q", g.ID, k)
				break
			}
		}
	}
	return len(l.errs) == before
}

// menuActions are the actions a menu item or button may name.
func menuActions() []string {
	return []string{actionKB, actionStatus, actionHuman, actionHelp, actionMenu}
}

// checkMenu checks menu.yaml against the flows and returns the command
// words, cleaned, mapped to their command.
func (l *loader) checkMenu(file string, root *yaml.Node, m *menuFile, flows map[string]*flow) map[string]string {
	if strings.TrimSpace(m.Greeting) == "" {
		l.fail(file, root, "missing greeting")
	}
	if strings.TrimSpace(m.Head) == "" {
		l.fail(file, root, "missing head (the line above the menu)")
	}
	switch {
	case len(m.Items) == 0:
		l.fail(file, root, "missing items: the main menu needs entries")
	case len(m.Items) > 9:
		l.fail(file, node(root, "items", 9), "at most 9 menu items, so one digit answers")
	}
	target := func(at *yaml.Node, what, flowID, action string) {
		switch {
		case flowID != "" && action != "":
			l.fail(file, at, "%s: give a flow or an action, not both", what)
		case flowID != "":
			if flows[flowID] == nil {
				l.fail(file, node(at, "flow"), "%s: unknown flow %q", what, flowID)
			}
		case action != "":
			if !slices.Contains(menuActions(), action) {
				l.fail(file, node(at, "action"), "%s: unknown action %q; want one of %s", what, action, strings.Join(menuActions(), ", "))
			}
		default:
			l.fail(file, at, "%s: needs a flow or an action", what)
		}
	}
	for i, it := range m.Items {
		at := node(root, "items", i)
		if strings.TrimSpace(it.Label) == "" {
			l.fail(file, at, "menu item %d: missing label", i+1)
		}
		target(at, fmt.Sprintf("menu item %d", i+1), it.Flow, it.Action)
	}
	// WeChat's limits on a custom menu: 3 buttons of at most 16 bytes,
	// each with at most 5 sub-buttons of at most 60 bytes.
	if len(m.Buttons) > 3 {
		l.fail(file, node(root, "buttons", 3), "at most 3 menu buttons")
	}
	var button func(at *yaml.Node, b buttonDef, sub bool)
	button = func(at *yaml.Node, b buttonDef, sub bool) {
		limit := 16
		if sub {
			limit = 60
		}
		what := fmt.Sprintf("button %q", b.Name)
		switch {
		case strings.TrimSpace(b.Name) == "":
			l.fail(file, at, "button: missing name")
		case len(b.Name) > limit:
			l.fail(file, node(at, "name"), "%s: a name has at most %d bytes here (a Chinese character is 3)", what, limit)
		}
		if len(b.Sub) > 0 {
			if sub {
				l.fail(file, node(at, "sub"), "%s: sub-buttons cannot have sub-buttons", what)
			}
			if len(b.Sub) > 5 {
				l.fail(file, node(at, "sub", 5), "%s: at most 5 sub-buttons", what)
			}
			if b.Flow != "" || b.Action != "" || b.URL != "" {
				l.fail(file, at, "%s: a button with sub-buttons does nothing itself", what)
			}
			for j, c := range b.Sub {
				button(node(at, "sub", j), c, true)
			}
			return
		}
		if b.URL != "" {
			if b.Flow != "" || b.Action != "" {
				l.fail(file, at, "%s: give a url, a flow or an action, only one", what)
			} else if !strings.HasPrefix(b.URL, "https://") && !strings.HasPrefix(b.URL, "http://") {
				l.fail(file, node(at, "url"), "%s: url must start with https://", what)
			}
			return
		}
		target(at, what, b.Flow, b.Action)
	}
	for i, b := range m.Buttons {
		button(node(root, "buttons", i), b, false)
	}

	cmds := make(map[string]string)
	at := node(root, "commands")
	for _, c := range []struct {
		name  string
		words []string
	}{
		{CmdBack, m.Commands.Back}, {CmdCancel, m.Commands.Cancel}, {CmdHuman, m.Commands.Human},
		{CmdHelp, m.Commands.Help}, {CmdStatus, m.Commands.Status}, {CmdMenu, m.Commands.Menu},
	} {
		if len(c.words) == 0 {
			l.fail(file, at, "commands: missing the words for %s", c.name)
		}
		for j, w := range c.words {
			cw := clean(w)
			switch {
			case cw == "":
				l.fail(file, node(at, c.name, j), "commands: %s: empty word", c.name)
			case ordinal(cw) > 0:
				l.fail(file, node(at, c.name, j), "commands: %s: %q would hide the option of that number", c.name, w)
			case cmds[cw] != "" && cmds[cw] != c.name:
				l.fail(file, node(at, c.name, j), "commands: %q is both %s and %s", w, cmds[cw], c.name)
			default:
				cmds[cw] = c.name
			}
		}
	}
	return cmds
}
