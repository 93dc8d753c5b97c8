//! `cargo bench -p cometgate-cli --bench audit` (run by `cargo xtask bench`): scan throughput of
//! `cometgate audit` over a synthetic ~200 MB client project, against ripgrep searching the
//! equivalent patterns over the same tree in the same run. Both run as processes on the same
//! warm page cache, alternating, several rounds; the medians are compared. Target: at least
//! 0.5× ripgrep's throughput.
//!
//! The tree: TypeScript/JavaScript sources (10–60 KB each, with the words the rules key on
//! where real code has them: `login`, `http://`, `apiKey`), one-line minified bundles of 5 MB,
//! `.env` and `app.json` files, and a few seeded leaks, so both tools find matches.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const TARGET_BYTES: usize = 200_000_000;
const BUNDLES: usize = 12;
const BUNDLE_BYTES: usize = 5_000_000;
const ROUNDS: usize = 5;

/// ripgrep given what the audit looks for: the same cue words (as literals, case-sensitive,
/// from [`cometgate_cli::cue_words`]), a 40-hex value and an auth token's tail.
fn rg_patterns() -> Vec<String> {
    let words: Vec<String> = cometgate_cli::cue_words()
        .into_iter()
        .map(|w| w.replace('.', r"\."))
        .collect();
    vec![
        words.join("|"),
        r"[0-9a-f]{40}".to_owned(),
        r"_[12][0-9]{9}[0-9a-f]{30}".to_owned(),
    ]
}

/// A small deterministic generator (xorshift64*), so every run scans the same tree.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn hex(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from_digit((self.next() % 16) as u32, 16).unwrap())
            .collect()
    }
}

const WORDS: &[&str] = &[
    "user",
    "message",
    "conversation",
    "group",
    "avatar",
    "status",
    "theme",
    "screen",
    "item",
    "list",
    "render",
    "state",
    "props",
    "value",
    "index",
    "count",
    "label",
    "title",
    "style",
    "navigation",
    "route",
    "params",
    "data",
    "error",
    "result",
    "response",
    "request",
    "cache",
];

fn source_line(rng: &mut Rng, out: &mut String) {
    let (a, b, c) = (rng.pick(WORDS), rng.pick(WORDS), rng.pick(WORDS));
    let n = rng.below(1000);
    let _ = match rng.below(14) {
        0 => writeln!(out, "import {{ {a}{n}, {b} }} from \"../{c}/{a}\";"),
        1 => writeln!(
            out,
            "export function {a}To{b}({c}: string, {b}{n}: number) {{"
        ),
        2 => writeln!(out, "  const {a} = {b}.map(({c}) => ({c}.{a} ?? {n}) * 2);"),
        3 => writeln!(
            out,
            "  if (!{a}) {{ throw new Error(\"missing {b} for {c} #{n}\"); }}"
        ),
        4 => writeln!(
            out,
            "  return <View style={{styles.{a}}}><Text>{{{b}.{c}}}</Text></View>;"
        ),
        5 => writeln!(
            out,
            "// {a} {b} {c}: keep in sync with the {a} screen ({n})"
        ),
        6 => writeln!(
            out,
            "  const onLogin = () => navigation.navigate(\"Login\", {{ {a}: {n} }});"
        ),
        7 => writeln!(out, "  // docs: http://example.com/{a}/{b}"),
        8 => writeln!(
            out,
            "  await analytics.track(\"{a}_{b}\", {{ apiKey: config.{c}Key }});"
        ),
        9 => writeln!(out, "}}"),
        10 => writeln!(out, "  {a}State.set{b}({c}{n});"),
        11 => writeln!(out, "  const [{a}, set{b}] = useState<{c}[]>([]);"),
        12 => writeln!(
            out,
            "  styles.{a} = {{ margin: {n}, padding: {}, color: \"#{}\" }};",
            n / 2,
            rng.hex(6)
        ),
        _ => writeln!(out, "  expect({a}.{b}).toBe({n});"),
    };
}

/// A leak the rules should find, seeded into about one file in a hundred.
fn leak(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => format!("const COMETCHAT_AUTH_KEY = \"{}\";\n", rng.hex(40)),
        1 => format!(
            "headers: {{ appId: APP_ID, apiKey: \"{}\" }} // CometChat REST\n",
            rng.hex(40)
        ),
        2 => format!(
            "const demoToken = \"superhero{}_{}{}\";\n",
            rng.below(9),
            1_700_000_000 + rng.below(10_000_000),
            rng.hex(30)
        ),
        _ => "await CometChatUIKit.login({ uid: \"superhero1\" });\n".to_owned(),
    }
}

/// Writes the tree's files and counts them.
struct Writer<'a> {
    root: &'a Path,
    bytes: usize,
    files: usize,
}

impl Writer<'_> {
    fn write(&mut self, relative: &str, contents: &str) {
        let path = self.root.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self.bytes += contents.len();
        self.files += 1;
    }
}

fn generate(root: &Path) -> (usize, usize) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = Writer {
        root,
        bytes: 0,
        files: 0,
    };
    for i in 0..BUNDLES {
        let mut bundle = String::with_capacity(BUNDLE_BYTES + 1_000);
        while bundle.len() < BUNDLE_BYTES {
            let (a, b) = (rng.pick(WORDS), rng.pick(WORDS));
            let _ = write!(
                bundle,
                "function {a}{}(e,t){{return e.{b}?t({a}):null}}var {b}{}=n(\"{a}\");",
                rng.below(99_999),
                rng.below(999)
            );
            if rng.below(2_000) == 0 {
                bundle.push_str(&leak(&mut rng).replace('\n', ";"));
            }
        }
        out.write(&format!("build/bundle-{i}/index.android.bundle"), &bundle);
    }
    out.write(
        ".env",
        "EXPO_PUBLIC_COMETCHAT_APP_ID=2612345abcdef\nEXPO_PUBLIC_COMETCHAT_REGION=us\n",
    );
    out.write(
        "app.json",
        "{\"expo\": {\"name\": \"bench\", \"extra\": {\"tokenUrl\": \"https://api.example/cometchat-token\"}}}\n",
    );
    let mut n = 0;
    while out.bytes < TARGET_BYTES {
        let size = 10_000 + rng.below(50_000);
        let mut text = String::with_capacity(size + 200);
        while text.len() < size {
            source_line(&mut rng, &mut text);
            if rng.below(30_000) == 0 {
                text.push_str(&leak(&mut rng));
            }
        }
        let ext = ["ts", "tsx", "js", "json"][n % 4];
        let (a, b, c) = (rng.pick(WORDS), rng.pick(WORDS), rng.pick(WORDS));
        out.write(&format!("src/{a}/{b}/{c}-{n}.{ext}"), &text);
        n += 1;
    }
    (out.bytes, out.files)
}

fn time(command: &mut Command, accept: &[i32]) -> Duration {
    let started = Instant::now();
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let took = started.elapsed();
    let code = out.status.code().unwrap_or(-1);
    assert!(
        accept.contains(&code),
        "{command:?} exited {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    if Command::new("rg").arg("--version").output().is_err() {
        eprintln!(
            "the audit benchmark compares with ripgrep: install it (apt-get install -y ripgrep)"
        );
        std::process::exit(1);
    }
    // AUDIT_BENCH_KEEP=<dir>: build the tree there and keep it (to profile or rerun by hand).
    let dir = tempfile::tempdir().unwrap();
    let tree =
        std::env::var_os("AUDIT_BENCH_KEEP").map_or_else(|| dir.path().join("app"), Into::into);
    let _ = std::fs::remove_dir_all(&tree);
    let started = Instant::now();
    let (bytes, files) = generate(&tree);
    eprintln!(
        "generated {files} files, {:.1} MB in {:.1?}",
        bytes as f64 / 1e6,
        started.elapsed()
    );

    let audit = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_cometgate"));
        c.args(["audit", "--format", "json"]).arg(&tree);
        c
    };
    let patterns = rg_patterns();
    let rg = |patterns: &[String]| {
        let mut c = Command::new("rg");
        c.args(["--no-ignore", "--hidden", "--no-messages", "--count"]);
        for p in patterns {
            c.args(["-e", p]);
        }
        c.arg(&tree);
        c
    };
    let findings = {
        let out = audit().output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .matches("\"rule\"")
            .count()
    };
    // Warm up: both tools read the whole tree once, into the page cache.
    time(&mut rg(&patterns), &[0]);
    time(&mut rg(&patterns[..1]), &[0]);

    let (mut ours, mut theirs, mut literal) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let mut run_ours = || ours.push(time(&mut audit(), &[1]));
        if round % 2 == 0 {
            run_ours();
            theirs.push(time(&mut rg(&patterns), &[0]));
        } else {
            theirs.push(time(&mut rg(&patterns), &[0]));
            run_ours();
        }
        literal.push(time(&mut rg(&patterns[..1]), &[0]));
    }
    let (ours, theirs, literal) = (median(ours), median(theirs), median(literal));
    let mbps = |d: Duration| bytes as f64 / 1e6 / d.as_secs_f64();
    let ratio = mbps(ours) / mbps(theirs);
    println!(
        "\naudit throughput: {files} files, {:.1} MB (MB = 10^6 bytes), medians of {ROUNDS} alternating rounds, \
         {} threads; {findings} findings\n",
        bytes as f64 / 1e6,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("| | median s | MB/s | vs rg |");
    println!("|---|---|---|---|");
    println!(
        "| rg, equivalent patterns (cue words, 40-hex, token tail) | {:.3} | {:.0} | 1.000 |",
        theirs.as_secs_f64(),
        mbps(theirs)
    );
    println!(
        "| cometgate audit (all rules, JSON) | {:.3} | {:.0} | {ratio:.3} |",
        ours.as_secs_f64(),
        mbps(ours)
    );
    println!(
        "| rg, cue words only (a lower bound: no value patterns) | {:.3} | {:.0} | {:.3} |",
        literal.as_secs_f64(),
        mbps(literal),
        mbps(literal) / mbps(theirs)
    );
    println!(
        "\ntarget: cometgate audit >= 0.5x rg (equivalent patterns): {ratio:.3}x -> {}",
        if ratio >= 0.5 { "met" } else { "NOT met" }
    );
}
