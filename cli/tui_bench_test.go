package cli

// Issue 5's budget figures measured through the real TUI backend (siteBackend over a SQLite
// cache, refresh.OpenLens, the tui.App), not a synthetic one:
//
//	go test ./cli -run '^$' -bench 'TUIFirstFrame100k|TUIResident100k' -benchtime 10x
//
// BenchmarkTUIFirstFrame100k: time from "TUI model created" to "first frame of the Lens
// screen rendered", against a bare database/sql scan of the same 100,000 rows in the same
// loop (x-floor; budget <= 2). BenchmarkTUIResident100k: resident memory of a fresh process
// with that Lens open in the TUI (rss-MB, hwm-MB; budget < 400). Both read /proc or
// getrusage, so they are Linux benchmarks (the fixture test below runs everywhere).

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"foundation/config"
	"foundation/examples"
	"foundation/jira"
	"foundation/lens"
	"foundation/refresh"
	"foundation/store"
	"foundation/store/storetest"
	"foundation/tui"
)

// tuiBenchViewer is the viewer of benchmark caches filled without Jira: the shipped
// Roadmap Lens lets anyone view it.
var tuiBenchViewer = refresh.Viewer{Viewer: lens.Viewer{User: "bench"}, Dialect: "cloud"}

// fillTUIBenchCache writes issues into a new cache file through the store's own upsert,
// applies the shipped Roadmap Lens (parent and sub-task extends, sum, progress and count
// roll-ups, a formula, conditional formatting) and grants the viewer every project, so
// the build filters nothing out. It returns the file's path, the cache closed.
func fillTUIBenchCache(tb testing.TB, issues []lens.Issue) string {
	tb.Helper()
	ctx := context.Background()
	path := filepath.Join(tb.TempDir(), "bench.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	for i := 0; i < len(issues); i += 5000 {
		if _, err := db.UpsertIssues(ctx, issues[i:min(i+5000, len(issues))], true); err != nil {
			tb.Fatal(err)
		}
	}
	files, err := examples.Files()
	if err != nil {
		tb.Fatal(err)
	}
	i := slices.IndexFunc(files, func(f examples.File) bool { return f.Name == "roadmap.yaml" })
	if i < 0 {
		tb.Fatal("examples has no roadmap.yaml")
	}
	if _, err := refresh.ApplyLens(ctx, db, files[i].Name, files[i].Data, tuiBenchViewer, refresh.AnyVersion); err != nil {
		tb.Fatal(err)
	}
	now := time.Now()
	var grants []store.Grant
	for _, pid := range []int64{int64(len("ALPHA")), int64(len("BETA"))} {
		grants = append(grants, store.Grant{Identity: tuiBenchViewer.User, Kind: store.GrantProject, ID: pid,
			Granted: true, CheckedAt: now, ExpiresAt: now.Add(24 * time.Hour)})
	}
	if err := db.PutGrants(ctx, grants); err != nil {
		tb.Fatal(err)
	}
	return path
}

// tuiBenchBackend is the backend `foundation` gives the TUI (runTUI): an editing siteBackend
// over the cache, with a client for a site that is never contacted (opening a Lens reads
// the cache only).
func tuiBenchBackend(tb testing.TB, db *store.DB) tui.Backend {
	tb.Helper()
	site := config.NewSite("bench")
	site.URL, site.Scope = "https://bench.invalid", "project in (ALPHA, BETA)"
	client, err := jira.New(context.Background(), jira.Options{BaseURL: site.URL, Dialect: jira.Cloud,
		Email: "bench@example.com", Token: "unused", MaxRetries: -1})
	if err != nil {
		tb.Fatal(err)
	}
	be, err := newSiteBackend(site, db, client, tuiBenchViewer)
	if err != nil {
		tb.Fatal(err)
	}
	return newEditingBackend(be)
}

// benchTUI drives a tui.App headlessly: every command runs and its message goes through
// Update until none is pending; timers (change-feed poll, refresh tick) are dropped, since
// the first frame does not wait for them.
type benchTUI struct {
	app   *tui.App
	queue []tea.Cmd
}

// openTUI creates the TUI model on be with the Lens to open at start, sizes it like a large
// terminal and runs Init's commands until idle: the Lens is built when it returns.
func openTUI(ctx context.Context, be tui.Backend, lensID string) (*benchTUI, error) {
	d := &benchTUI{}
	app, err := tui.New(ctx, tui.Options{Backend: be, Lens: lensID, NoColor: false,
		Tick:    func(time.Duration, func(time.Time) tea.Msg) tea.Cmd { return nil },
		OpenURL: func(string) error { return nil }, Copy: func(string) error { return nil }})
	if err != nil {
		return nil, fmt.Errorf("new TUI: %w", err)
	}
	d.app = app
	if err := d.run(func() tea.Msg { return tea.WindowSizeMsg{Width: 160, Height: 48} }, app.Init()); err != nil {
		return nil, err
	}
	return d, nil
}

// run runs cmds, feeding each message through Update and queueing what that returns,
// until nothing is pending.
func (d *benchTUI) run(cmds ...tea.Cmd) error {
	d.queue = append(d.queue, cmds...)
	for steps := 0; len(d.queue) > 0; steps++ {
		if steps > 10000 {
			return errors.New("the TUI never went idle")
		}
		c := d.queue[0]
		d.queue = d.queue[1:]
		if c == nil {
			continue
		}
		switch m := c().(type) {
		case nil:
		case tea.BatchMsg:
			d.queue = append(d.queue, m...)
		default:
			_, next := d.app.Update(m)
			d.queue = append(d.queue, next)
		}
	}
	return nil
}

// checkLensFrame fails unless frame is the Lens screen of the whole Lens.
func checkLensFrame(frame string, total int, firstKey string) error {
	plain := ansi.Strip(frame)
	if !strings.Contains(plain, fmt.Sprintf("/%d rows", total)) || !strings.Contains(plain, firstKey) {
		return fmt.Errorf("the first frame is not the Lens screen of %d rows with %s:\n%s", total, firstKey, plain)
	}
	return nil
}

// tuiFloorScan is the floor: storetest.ScanIssueColumns over the same file.
func tuiFloorScan(tb testing.TB, sqlDB *sql.DB, want int) {
	n, err := storetest.ScanIssueColumns(sqlDB)
	if err != nil {
		tb.Fatal(err)
	}
	if n != want {
		tb.Fatalf("floor scanned %d rows, want %d", n, want)
	}
}

// firstFrame opens the Roadmap in a new backend and TUI model over db and renders the
// first frame. A new backend each time: siteBackend keeps its last build per Lens, and a
// reused one would measure an incremental catch-up instead of an open.
func firstFrame(tb testing.TB, db *store.DB, total int) {
	d, err := openTUI(context.Background(), tuiBenchBackend(tb, db), "Roadmap")
	if err != nil {
		tb.Fatal(err)
	}
	if err := checkLensFrame(d.app.Render(), total, "ALPHA-1"); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkTUIFirstFrame100k: from the TUI model created over the real backend to the
// first frame of a 100,000-issue Roadmap, against the floor scan, interleaved (each
// starting from a collected heap, the order rotating) so the noise of a small shared
// machine falls on all alike. x-floor is the ratio of the wall-clock medians, the budget's
// figure; cpu-x-floor the same with the process's CPU time (user+system, GC included),
// which a loaded machine's waiting for a core does not inflate (Unix only). engine-ms is
// refresh.OpenLens alone (cache read, Lens build, default view), in the same loop, so
// frame-ms minus engine-ms is what the backend adapter and the TUI add.
func BenchmarkTUIFirstFrame100k(b *testing.B) {
	issues := storetest.RoadmapIssues(100000)
	path := fillTUIBenchCache(b, issues)
	ctx := context.Background()
	db, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	sqlDB, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		b.Fatal(err)
	}
	defer sqlDB.Close()
	engine := func() {
		o, err := refresh.OpenLens(ctx, db, "Roadmap", tuiBenchViewer, refresh.OpenOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if len(o.Forest.Rows) != len(issues) {
			b.Fatalf("the Roadmap has %d rows, want %d", len(o.Forest.Rows), len(issues))
		}
	}
	arms := []struct {
		run       func()
		wall, cpu []time.Duration
	}{
		{run: func() { tuiFloorScan(b, sqlDB, len(issues)) }},
		{run: func() { firstFrame(b, db, len(issues)) }},
		{run: engine},
	}
	// Warm the page cache and the compiled Lens paths for all.
	for _, a := range arms {
		a.run()
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		for k := range arms {
			a := &arms[(i+k)%len(arms)]
			runtime.GC()
			c0 := processCPU()
			start := time.Now()
			a.run()
			wall := time.Since(start)
			a.wall, a.cpu = append(a.wall, wall), append(a.cpu, processCPU()-c0)
		}
	}
	b.StopTimer()
	floor, frame, eng := arms[0], arms[1], arms[2]
	mf, mo := median(floor.wall), median(frame.wall)
	b.ReportMetric(float64(mo.Microseconds())/1e3, "frame-ms")
	b.ReportMetric(float64(median(eng.wall).Microseconds())/1e3, "engine-ms")
	b.ReportMetric(float64(mf.Microseconds())/1e3, "floor-ms")
	b.ReportMetric(float64(mo)/float64(mf), "x-floor")
	if cf := median(floor.cpu); cf > 0 {
		b.ReportMetric(float64(median(frame.cpu))/float64(cf), "cpu-x-floor")
		b.ReportMetric(float64(median(eng.cpu))/float64(cf), "engine-cpu-x-floor")
	}
}

// median returns the middle duration (sorts ds).
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// residentEnv names the cache file a re-executed test binary opens in
// TestTUIResidentChild; unset, that test is skipped (it is the benchmark's child, not a
// test of its own).
const residentEnv = "FOUNDATION_TUI_RSS_CACHE"

// residentRowsEnv is the number of rows the child must see in the Lens.
const residentRowsEnv = "FOUNDATION_TUI_RSS_ROWS"

// residentReport is what the child prints on stdout for the parent, one line: the
// resident set at the first frame and after expanding every row (all 100,000 then in the
// table's visible index), the peak over both, and the Go heap and runtime total at the
// first frame.
type residentReport struct {
	RSSKB, ExpandedRSSKB, HWMKB, HeapBytes, SysBytes uint64
}

// BenchmarkTUIResident100k: a fresh process (this test binary, re-executed) opens the
// 100,000-issue Roadmap in the TUI over the real backend, renders the first frame, collects
// garbage and reports its resident set (rss-MB); then expands every row (E) and reports it
// again (expanded-rss-MB), and the peak over both (hwm-MB); and for where the
// memory is, the Go heap in use (heap-MB) and all the Go runtime holds from the OS
// (gosys-MB); the rest of the resident set is SQLite's own allocations, code and stacks.
// A subprocess, so the benchmark's own cache filling is not counted.
func BenchmarkTUIResident100k(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("resident memory is read from /proc/self/status")
	}
	issues := storetest.RoadmapIssues(100000)
	path := fillTUIBenchCache(b, issues)
	var last residentReport
	b.ResetTimer()
	for b.Loop() {
		r, err := runResidentChild(path, len(issues))
		if err != nil {
			b.Fatal(err)
		}
		last = r
	}
	b.StopTimer()
	b.ReportMetric(float64(last.RSSKB)/1024, "rss-MB")
	b.ReportMetric(float64(last.ExpandedRSSKB)/1024, "expanded-rss-MB")
	b.ReportMetric(float64(last.HWMKB)/1024, "hwm-MB")
	b.ReportMetric(float64(last.HeapBytes)/(1<<20), "heap-MB")
	b.ReportMetric(float64(last.SysBytes)/(1<<20), "gosys-MB")
}

// runResidentChild re-executes the test binary to run TestTUIResidentChild on path.
func runResidentChild(path string, rows int) (residentReport, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestTUIResidentChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), residentEnv+"="+path, residentRowsEnv+"="+strconv.Itoa(rows))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return residentReport{}, fmt.Errorf("resident child: %w\n%s%s", err, stdout.Bytes(), stderr.Bytes())
	}
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "resident "); ok {
			var r residentReport
			if err := json.Unmarshal([]byte(rest), &r); err != nil {
				return residentReport{}, fmt.Errorf("resident child report %q: %w", rest, err)
			}
			return r, nil
		}
	}
	return residentReport{}, fmt.Errorf("resident child printed no report:\n%s%s", stdout.Bytes(), stderr.Bytes())
}

// TestTUIResidentChild is BenchmarkTUIResident100k's child process: it opens the cache
// named by residentEnv as `foundation` does, renders the Roadmap's first frame and prints
// its memory with the TUI still live.
func TestTUIResidentChild(t *testing.T) {
	path := os.Getenv(residentEnv)
	if path == "" {
		t.Skip("the child of BenchmarkTUIResident100k; runs only when re-executed by it")
	}
	ctx := context.Background()
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	total, err := strconv.Atoi(os.Getenv(residentRowsEnv))
	if err != nil {
		t.Fatalf("%s: %v", residentRowsEnv, err)
	}
	d, err := openTUI(ctx, tuiBenchBackend(t, db), "Roadmap")
	if err != nil {
		t.Fatal(err)
	}
	if err := checkLensFrame(d.app.Render(), total, "ALPHA-1"); err != nil {
		t.Fatal(err)
	}
	var r residentReport
	r.RSSKB, r.HeapBytes, r.SysBytes = residentNow(t)
	if err := d.run(func() tea.Msg { return tea.KeyPressMsg{Code: 'E', Text: "E"} }); err != nil {
		t.Fatal(err)
	}
	if frame := ansi.Strip(d.app.Render()); !strings.Contains(frame, fmt.Sprintf(" %d/%d rows", total, total)) {
		t.Fatalf("E did not expand every row:\n%s", frame)
	}
	r.ExpandedRSSKB, _, _ = residentNow(t)
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	if r.HWMKB, err = procStatusKB(status, "VmHWM"); err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(d)
	line, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("resident %s\n", line)
}

// residentNow collects garbage and returns the resident set (kB), the Go heap in use and
// all the Go runtime holds from the OS (bytes).
func residentNow(t *testing.T) (rssKB, heap, sys uint64) {
	t.Helper()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	rssKB, err = procStatusKB(status, "VmRSS")
	if err != nil {
		t.Fatal(err)
	}
	return rssKB, ms.HeapAlloc, ms.Sys
}

// procStatusKB reads one "Name:   1234 kB" line of /proc/<pid>/status.
func procStatusKB(status []byte, name string) (uint64, error) {
	for line := range strings.SplitSeq(string(status), "\n") {
		rest, ok := strings.CutPrefix(line, name+":")
		if !ok {
			continue
		}
		num, ok := strings.CutSuffix(strings.TrimSpace(rest), " kB")
		if !ok {
			return 0, fmt.Errorf("/proc status %s: %q is not in kB", name, rest)
		}
		v, err := strconv.ParseUint(strings.TrimSpace(num), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc status %s: %w", name, err)
		}
		return v, nil
	}
	return 0, fmt.Errorf("/proc status has no %s line", name)
}

// TestTUIBenchPlumbing runs both benchmarks' paths on a small cache, so a plain go test
// catches a broken fixture or child protocol before anyone runs the benchmarks: the
// Roadmap opens through the real backend onto the Lens screen, and the re-executed child
// reports a resident set within what the kernel says about it.
func TestTUIBenchPlumbing(t *testing.T) {
	issues := storetest.RoadmapIssues(2500)
	path := fillTUIBenchCache(t, issues)
	ctx := context.Background()
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	firstFrame(t, db, len(issues))
	if err := checkLensFrame("home", len(issues), "ALPHA-1"); err == nil {
		t.Error("checkLensFrame accepted a frame that is not the Lens screen")
	}
	if runtime.GOOS != "linux" {
		return
	}
	r, err := runResidentChild(path, len(issues))
	if err != nil {
		t.Fatal(err)
	}
	// VmHWM can trail VmRSS by a little: the kernel folds per-CPU RSS counts into the peak
	// only now and then.
	if r.RSSKB == 0 || r.ExpandedRSSKB == 0 || r.HWMKB < max(r.RSSKB, r.ExpandedRSSKB)*9/10 || r.HeapBytes == 0 || r.SysBytes < r.HeapBytes {
		t.Errorf("implausible report %+v", r)
	}
	if _, err := runResidentChild(path, len(issues)+1); err == nil {
		t.Error("the child accepted a Lens of the wrong size")
	}
}

func TestProcStatusKB(t *testing.T) {
	status := []byte("Name:\tcli.test\nVmPeak:\t  123456 kB\nVmHWM:\t   80000 kB\nVmRSS:\t   70000 kB\nThreads:\t5\n")
	for _, tc := range []struct {
		name string
		want uint64
		err  bool
	}{
		{"VmRSS", 70000, false},
		{"VmHWM", 80000, false},
		{"Threads", 0, true}, // not in kB
		{"VmSwap", 0, true},  // absent
		{"Vm", 0, true},      // a prefix of other names is not a name
	} {
		got, err := procStatusKB(status, tc.name)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("procStatusKB(%s) = %d, %v; want %d (error %v)", tc.name, got, err, tc.want, tc.err)
		}
	}
}
