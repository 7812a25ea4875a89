package intake

// The structs below mirror the YAML files; the loader decodes them strictly
// (unknown keys are errors) and then checks what YAML cannot.

// flowFile is one flow definition file.
type flowFile struct {
	ID      string                `yaml:"id"`
	Title   string                `yaml:"title"`
	Line    string                `yaml:"line"`
	Inquiry string                `yaml:"inquiry"`
	Intro   string                `yaml:"intro"`
	Guide   string                `yaml:"guide"`
	Steps   []stepDef             `yaml:"steps"`
	Outcome *outcomeDef           `yaml:"outcome"`
	Endings map[string]outcomeDef `yaml:"endings"`
}

// Step types.
const (
	typeChoice  = "choice"
	typeText    = "text"
	typePhone   = "phone"
	typeIDCard  = "idcard"
	typeDate    = "date"
	typeConfirm = "confirm"
	typeAttach  = "attach"
)

// stepTypes lists the step types in the order error messages name them.
func stepTypes() []string {
	return []string{typeChoice, typeText, typePhone, typeIDCard, typeDate, typeConfirm, typeAttach}
}

// stepDef is one question of a flow.
type stepDef struct {
	ID       string      `yaml:"id"`
	Type     string      `yaml:"type"`
	Ask      string      `yaml:"ask"`
	Field    string      `yaml:"field"`
	Label    string      `yaml:"label"`
	Options  []optionDef `yaml:"options"`
	Next     string      `yaml:"next"`
	Optional bool        `yaml:"optional"`
	Min      int         `yaml:"min"`
	Max      int         `yaml:"max"`
	When     string      `yaml:"when"`
}

// optionDef is one answer of a choice step; Value defaults to Label.
type optionDef struct {
	Label string `yaml:"label"`
	Value string `yaml:"value"`
	Next  string `yaml:"next"`
	// Urgent marks the matter urgent when this option is chosen: the desk
	// gives it the urgent deadline and tells the chief at once.
	Urgent bool `yaml:"urgent"`
}

// outcomeDef is how a flow ends.
type outcomeDef struct {
	Kind string `yaml:"kind"`
	Text string `yaml:"text"`
	// Office is who an answer sends the citizen to: a department or
	// agency ID, or a service line; default the flow's line.
	Office string `yaml:"office"`
}

// endTarget is the next value that leads to the flow's outcome.
const endTarget = "end"

// maxText is the absolute limit of any text answer, in characters.
const maxText = 2000

// maxAttachments is how many media one matter keeps.
const maxAttachments = 9

// menuFile is menu.yaml.
type menuFile struct {
	Greeting string       `yaml:"greeting"`
	Head     string       `yaml:"head"`
	Tail     string       `yaml:"tail"`
	Items    []menuItem   `yaml:"items"`
	Buttons  []buttonDef  `yaml:"buttons"`
	Commands commandWords `yaml:"commands"`
}

// menuItem is one numbered entry of the main menu: a flow or an action.
type menuItem struct {
	Label  string `yaml:"label"`
	Flow   string `yaml:"flow"`
	Action string `yaml:"action"`
}

// Menu actions.
const (
	actionKB     = "kb"
	actionStatus = "status"
	actionHuman  = "human"
	actionHelp   = "help"
	actionMenu   = "menu"
)

// buttonDef is one button of the account's custom menu.
type buttonDef struct {
	Name   string      `yaml:"name"`
	Flow   string      `yaml:"flow"`
	Action string      `yaml:"action"`
	URL    string      `yaml:"url"`
	Sub    []buttonDef `yaml:"sub"`
}

// commandWords are the global command words, each list in its own key.
type commandWords struct {
	Back   []string `yaml:"back"`
	Cancel []string `yaml:"cancel"`
	Human  []string `yaml:"human"`
	Help   []string `yaml:"help"`
	Status []string `yaml:"status"`
	Menu   []string `yaml:"menu"`
}

// kbFile is kb.yaml or kb-*.yaml.
type kbFile struct {
	Entries []kbEntry `yaml:"entries"`
}

// kbEntry is one common question and its answer.
type kbEntry struct {
	ID       string   `yaml:"id"`
	Line     string   `yaml:"line"`
	Question string   `yaml:"question"`
	Keywords []string `yaml:"keywords"`
	Answer   string   `yaml:"answer"`
	Featured bool     `yaml:"featured"`
	// Office is who the answer sends the citizen to: a department or
	// agency ID, or a service line; default the entry's line.
	Office string `yaml:"office"`

	// parts are the keywords normalised and split on "+" once, at load
	// time, rather than for every message.
	parts [][]string
}

// texts is texts.yaml: every sentence the interpreter says on its own.
// Placeholders in braces are filled in: {n}, {min}, {max}, {what}, {q},
// {example}, {examples}, {date}, {deadline}, and the office's {name},
// {address}, {hours} and {phone}.
type texts struct {
	Help            string            `yaml:"help"`
	StepTail        string            `yaml:"step_tail"`
	FirstStep       string            `yaml:"first_step"`
	Cancelled       string            `yaml:"cancelled"`
	FlowGone        string            `yaml:"flow_gone"`
	NotUnderstood   string            `yaml:"not_understood"`
	EmojiOnly       string            `yaml:"emoji_only"`
	VoiceEmpty      string            `yaml:"voice_empty"`
	TooLong         string            `yaml:"too_long"`
	TooShort        string            `yaml:"too_short"`
	TooLongIdle     string            `yaml:"too_long_idle"`
	InvalidChoice   string            `yaml:"invalid_choice"`
	InvalidPhone    string            `yaml:"invalid_phone"`
	IDLength        string            `yaml:"invalid_idcard_length"`
	InvalidID       string            `yaml:"invalid_idcard"`
	InvalidDate     string            `yaml:"invalid_date"`
	DatePast        string            `yaml:"date_past"`
	DateFuture      string            `yaml:"date_future"`
	DateNotWorkday  string            `yaml:"date_not_workday"`
	Office          string            `yaml:"office"`
	DateTooLate     string            `yaml:"date_too_late"`
	SkipLabel       string            `yaml:"skip_label"`
	SkipWords       []string          `yaml:"skip_words"`
	AttachDone      string            `yaml:"attach_done"`
	AttachReceived  string            `yaml:"attach_received"`
	AttachNoted     string            `yaml:"attach_noted"`
	AttachIdle      string            `yaml:"attach_idle"`
	AttachLimit     string            `yaml:"attach_limit"`
	AttachNeed      string            `yaml:"attach_need"`
	AttachLabel     string            `yaml:"attach_label"`
	AttachCount     string            `yaml:"attach_count"`
	Kinds           map[string]string `yaml:"kinds"`
	ConfirmHead     string            `yaml:"confirm_head"`
	ConfirmOptions  []string          `yaml:"confirm_options"`
	YesWords        []string          `yaml:"yes_words"`
	EditHead        string            `yaml:"edit_head"`
	TicketDone      string            `yaml:"ticket_done"`
	Handover        string            `yaml:"handover"`
	FeedbackOptions []string          `yaml:"feedback_options"`
	Glad            string            `yaml:"glad"`
	KBHead          string            `yaml:"kb_head"`
	KBTail          string            `yaml:"kb_tail"`
	KBPick          string            `yaml:"kb_pick"`
	KBNone          string            `yaml:"kb_none"`
	KBNoneOptions   []string          `yaml:"kb_none_options"`
	KBUnsolved      string            `yaml:"kb_unsolved"`
	AskedLabel      string            `yaml:"asked_label"`
	UrgentLabel     string            `yaml:"urgent_label"`
	// The service guides: the guide's text ({title}, {who}, {materials},
	// {limit}, {fee}, {basis}; a line whose field is empty is left out),
	// one material ({n}, {item}), the limit in working days or hours
	// ({n}), what separates the instruments of the basis, and the offer
	// before a flow's questions.
	Guide             string   `yaml:"guide"`
	GuideMaterial     string   `yaml:"guide_material"`
	GuideLimitDays    string   `yaml:"guide_limit_days"`
	GuideLimitHours   string   `yaml:"guide_limit_hours"`
	GuideBasisSep     string   `yaml:"guide_basis_sep"`
	GuideOffer        string   `yaml:"guide_offer"`
	GuideOfferOptions []string `yaml:"guide_offer_options"`
	GuidePick         string   `yaml:"guide_pick"`
	GuideThen         string   `yaml:"guide_then"`
	ConsentNotice     string   `yaml:"consent_notice"`
	ConsentOptions    []string `yaml:"consent_options"`
	ConsentRefused    string   `yaml:"consent_refused"`
	RetentionYears    string   `yaml:"retention_years"`
	RetentionDays     string   `yaml:"retention_days"`
}
