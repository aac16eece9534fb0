//! A fake Octane server on 127.0.0.1 for integration tests.
//!
//! It checks what the documented REST API checks: the session cookie on every API request,
//! the sign-in body, required fields and their types, duplicate `instance_id` and pipeline
//! names (409 with Octane's error JSON), `startTime` in milliseconds and the result words.
//! Anything the real API would reject is rejected here too and recorded as a violation, so a
//! test can assert that the client never sent it.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use percent_encoding::percent_decode_str;
use serde_json::{Value, json};
use tiny_http::{Header, Method, Request, Response, Server};

pub const FAKE_CLIENT_ID: &str = "ci-reporter_7f3a";
pub const FAKE_CLIENT_SECRET: &str = "Zx9!fake-secret-Q2w";
pub const SHARED_SPACE: &str = "1001";
pub const WORKSPACE: &str = "1002";

/// A registered CI server.
#[derive(Clone, Debug)]
pub struct CiServer {
    pub id: String,
    pub instance_id: String,
    pub name: String,
    pub server_type: String,
    pub url: Option<String>,
}

/// A registered pipeline.
#[derive(Clone, Debug)]
pub struct Pipeline {
    pub id: String,
    pub name: String,
    pub server_id: String,
    pub root_job_ci_id: String,
}

/// A reported build, keyed by server, job and build ci ids.
#[derive(Clone, Debug)]
pub struct Build {
    pub server_ci_id: String,
    pub job_ci_id: String,
    pub build_ci_id: String,
    pub build_name: String,
    pub start_time: i64,
    pub duration: i64,
    pub result: String,
    /// How many times this build was sent.
    pub reports: u32,
}

/// A response the fake gives instead of the normal one, for fault tests.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Status, extra headers and body.
    Reply(u16, Vec<(String, String)>, String),
    /// Wait this long, then respond normally.
    Delay(Duration),
    /// Close the connection without a response. The fake's front relay applies it to the
    /// first request on a new connection (every run opens one for its sign-in); the fault stays
    /// in the list when no such request matches.
    Drop,
    /// Expire every session, so the request gets a 401.
    ExpireSession,
    /// Respond with this status and an Octane error whose description lists the request
    /// headers, as a gateway that echoes the request does.
    EchoHeaders(u16),
}

/// A fault for the next request whose method and path match.
#[derive(Clone, Debug)]
pub struct FaultRule {
    pub method: &'static str,
    pub path_contains: &'static str,
    pub fault: Fault,
}

/// One request as the fake saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(Default)]
pub struct State {
    pub servers: Vec<CiServer>,
    pub pipelines: Vec<Pipeline>,
    pub builds: Vec<Build>,
    pub requests: Vec<Seen>,
    /// Requests the real API would reject, with the reason.
    pub violations: Vec<String>,
    pub sign_ins: u32,
    pub sign_outs: u32,
    /// Valid session cookie values.
    sessions: Vec<String>,
    /// When true, every API response sets a new session cookie and the old one stops working.
    pub rotate_cookies: bool,
    pub faults: Vec<FaultRule>,
    /// Test-result uploads (raw XML bodies), with the task ids handed out.
    pub test_uploads: Vec<(u64, String)>,
    /// Status values returned by `GET .../test-results/{id}`, consumed in order; `success` after that.
    pub task_statuses: Vec<String>,
}

/// The fake server; stops when dropped.
pub struct FakeOctane {
    address: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1001);

fn next_id() -> String {
    NEXT_ID.fetch_add(1, Ordering::Relaxed).to_string()
}

impl FakeOctane {
    /// Starts the fake: a tiny_http server behind a TCP relay that can drop connections, both
    /// on 127.0.0.1.
    pub fn start() -> FakeOctane {
        let server = Server::http("127.0.0.1:0").expect("bind the fake Octane on 127.0.0.1");
        let inner = server
            .server_addr()
            .to_ip()
            .expect("an IP address")
            .to_string();
        let front = TcpListener::bind("127.0.0.1:0").expect("bind the fake's relay on 127.0.0.1");
        let address = front.local_addr().expect("relay address").to_string();
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let state = Arc::clone(&state);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || serve(server, state, stop))
        };
        {
            let state = Arc::clone(&state);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || relay(front, inner, state, stop));
        }
        FakeOctane {
            address,
            state,
            stop,
            thread: Some(thread),
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        self.address.clone()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Returns the browser URL form users paste: `http://127.0.0.1:PORT/ui/?p=1001/1002`.
    pub fn browser_url(&self) -> String {
        format!("{}/ui/?p={SHARED_SPACE}/{WORKSPACE}", self.base_url())
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add_fault(&self, method: &'static str, path_contains: &'static str, fault: Fault) {
        self.state().faults.push(FaultRule {
            method,
            path_contains,
            fault,
        });
    }

    pub fn servers(&self) -> Vec<CiServer> {
        self.state().servers.clone()
    }

    pub fn pipelines(&self) -> Vec<Pipeline> {
        self.state().pipelines.clone()
    }

    pub fn builds(&self) -> Vec<Build> {
        self.state().builds.clone()
    }

    pub fn violations(&self) -> Vec<String> {
        self.state().violations.clone()
    }

    /// Adds a CI server as if another tool had registered it.
    pub fn add_server(&self, instance_id: &str) -> String {
        let id = next_id();
        self.state().servers.push(CiServer {
            id: id.clone(),
            instance_id: instance_id.to_string(),
            name: instance_id.to_string(),
            server_type: "unknown".to_string(),
            url: None,
        });
        id
    }

    /// Adds a pipeline as if another tool had created it.
    pub fn add_pipeline(&self, name: &str, server_id: &str, root_job_ci_id: &str) {
        self.state().pipelines.push(Pipeline {
            id: next_id(),
            name: name.to_string(),
            server_id: server_id.to_string(),
            root_job_ci_id: root_job_ci_id.to_string(),
        });
    }
}

impl Drop for FakeOctane {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(server: Server, state: Arc<Mutex<State>>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        let Ok(Some(request)) = server.recv_timeout(Duration::from_millis(50)) else {
            continue;
        };
        // One thread per request, so a delayed response does not hold up parallel clients.
        let state = Arc::clone(&state);
        std::thread::spawn(move || handle(request, &state));
    }
}

/// A response: status, extra headers, body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

fn answer(status: u16, body: Value) -> Answer {
    Answer {
        status,
        headers: Vec::new(),
        body: body.to_string(),
    }
}

fn octane_error(status: u16, code: &str, description: &str) -> Answer {
    answer(
        status,
        json!({
            "error_code": code,
            "correlation_id": format!("corr-{}", next_id()),
            "description": description,
            "description_translated": description,
            "business_error": status == 409,
        }),
    )
}

/// Accepts client connections and relays each one to the tiny_http server, unless its first
/// request matches a `Fault::Drop` rule: then the connection is closed without a response.
fn relay(front: TcpListener, inner: String, state: Arc<Mutex<State>>, stop: Arc<AtomicBool>) {
    front
        .set_nonblocking(true)
        .expect("a non-blocking listener");
    while !stop.load(Ordering::Relaxed) {
        let client = match front.accept() {
            Ok((client, _)) => client,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let state = Arc::clone(&state);
        let inner = inner.clone();
        std::thread::spawn(move || relay_connection(client, &inner, &state));
    }
}

fn relay_connection(mut client: TcpStream, inner: &str, state: &Mutex<State>) {
    let _ = client.set_nonblocking(false);
    let _ = client.set_read_timeout(Some(Duration::from_secs(10)));
    // Read the request line of the first request.
    let mut head = Vec::new();
    let mut chunk = [0u8; 4096];
    while !head.windows(2).any(|w| w == b"\r\n") && head.len() < 64 * 1024 {
        match client.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&chunk[..n]),
        }
    }
    let _ = client.set_read_timeout(None);
    let line = String::from_utf8_lossy(&head);
    let mut words = line.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or(target).to_string();
    let dropped = {
        let mut state = lock(state);
        let index = state.faults.iter().position(|rule| {
            matches!(rule.fault, Fault::Drop)
                && rule.method == method
                && path.contains(rule.path_contains)
        });
        index.map(|i| state.faults.remove(i)).is_some()
    };
    if dropped {
        record(state, method, &path, 0, &[], "");
        let _ = client.shutdown(Shutdown::Both);
        return;
    }
    let Ok(mut server) = TcpStream::connect(inner) else {
        return;
    };
    if server.write_all(&head).is_err() {
        return;
    }
    let (Ok(mut client_reader), Ok(mut server_writer)) = (client.try_clone(), server.try_clone())
    else {
        return;
    };
    let upstream = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_reader, &mut server_writer);
        let _ = server_writer.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut server, &mut client);
    let _ = client.shutdown(Shutdown::Both);
    let _ = upstream.join();
}

fn handle(mut request: Request, state: &Mutex<State>) {
    let method = request.method().to_string();
    let url = request.url().to_string();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|h| {
            (
                h.field.as_str().as_str().to_ascii_lowercase(),
                h.value.as_str().to_string(),
            )
        })
        .collect();
    let mut body = String::new();
    let mut raw = Vec::new();
    let _ = request.as_reader().read_to_end(&mut raw);
    match String::from_utf8(raw) {
        Ok(text) => body = text,
        Err(_) => lock(state)
            .violations
            .push(format!("{method} {url}: body is not UTF-8")),
    }
    let path = url.split('?').next().unwrap_or(&url).to_string();

    let fault = {
        let mut state = lock(state);
        // `Fault::Drop` rules belong to the relay, which handles the connection.
        let index = state.faults.iter().position(|rule| {
            !matches!(rule.fault, Fault::Drop)
                && rule.method == method
                && path.contains(rule.path_contains)
        });
        index.map(|i| state.faults.remove(i).fault)
    };
    let answer = match fault {
        Some(Fault::Reply(status, extra, text)) => Answer {
            status,
            headers: extra,
            body: text,
        },
        Some(Fault::Drop) => unreachable!("the relay handles Fault::Drop"),
        Some(Fault::Delay(wait)) => {
            std::thread::sleep(wait);
            route(state, request.method(), &url, &headers, &body)
        }
        Some(Fault::EchoHeaders(status)) => {
            let listed: Vec<String> = headers.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            octane_error(
                status,
                "platform.bad_request",
                &format!("bad request, headers were: {}", listed.join("; ")),
            )
        }
        Some(Fault::ExpireSession) => {
            lock(state).sessions.clear();
            route(state, request.method(), &url, &headers, &body)
        }
        None => route(state, request.method(), &url, &headers, &body),
    };

    record(state, &method, &path, answer.status, &headers, &body);
    let mut response = Response::from_string(answer.body).with_status_code(answer.status);
    let is_json = !answer
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
    if is_json {
        response.add_header(Header::from_bytes("Content-Type", "application/json").unwrap());
    }
    for (name, value) in answer.headers {
        response.add_header(Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap());
    }
    let _ = request.respond(response);
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

fn record(
    state: &Mutex<State>,
    method: &str,
    path: &str,
    status: u16,
    headers: &[(String, String)],
    body: &str,
) {
    lock(state).requests.push(Seen {
        method: method.to_string(),
        path: path.to_string(),
        status,
        headers: headers.to_vec(),
        body: body.to_string(),
    });
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn session_cookie(headers: &[(String, String)]) -> Option<String> {
    let cookie = header(headers, "cookie")?;
    cookie.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == "LWSSO_COOKIE_KEY").then(|| value.to_string())
    })
}

fn route(
    state: &Mutex<State>,
    method: &Method,
    url: &str,
    headers: &[(String, String)],
    body: &str,
) -> Answer {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let mut state = lock(state);

    if header(headers, "accept") != Some("application/json") {
        state.violations.push(format!(
            "{method} {path}: missing `Accept: application/json`"
        ));
    }
    if header(headers, "hpeclienttype") != Some("HPE_CI_CLIENT") {
        state.violations.push(format!(
            "{method} {path}: missing `HPECLIENTTYPE: HPE_CI_CLIENT`"
        ));
    }
    if !header(headers, "user-agent").is_some_and(|ua| ua.starts_with("octane-report/")) {
        state.violations.push(format!(
            "{method} {path}: User-Agent does not name octane-report"
        ));
    }

    match (method, path) {
        (Method::Post, "/authentication/sign_in") => return sign_in(&mut state, headers, body),
        (Method::Post, "/authentication/sign_out") => {
            if let Some(cookie) = session_cookie(headers) {
                state.sessions.retain(|s| *s != cookie);
            }
            state.sign_outs += 1;
            return answer(200, json!({}));
        }
        _ => {}
    }

    let valid = session_cookie(headers).is_some_and(|c| state.sessions.contains(&c));
    if !valid {
        return octane_error(
            401,
            "VALIDATION_TOKEN_EXPIRED_IDLE_TIME_OUT",
            "Authentication failed",
        );
    }
    let api = format!("/api/shared_spaces/{SHARED_SPACE}/workspaces/{WORKSPACE}/");
    let Some(resource) = path.strip_prefix(&api) else {
        return octane_error(
            404,
            "platform.not_found",
            &format!("no such resource: {path}"),
        );
    };
    if matches!(method, Method::Post | Method::Put) {
        let content_type = header(headers, "content-type").unwrap_or("");
        let expected = if resource.starts_with("test-results") {
            "application/xml"
        } else {
            "application/json"
        };
        if !content_type.starts_with(expected) {
            state.violations.push(format!(
                "{method} {path}: Content-Type `{content_type}`, expected {expected}"
            ));
            return octane_error(
                415,
                "platform.unsupported_media_type",
                "Unsupported Media Type",
            );
        }
    }

    let mut answer = match (method, resource) {
        (Method::Get, "ci_servers") => get_servers(&mut state, query),
        (Method::Post, "ci_servers") => post_servers(&mut state, body),
        (Method::Get, "pipelines") => get_pipelines(&mut state, query),
        (Method::Post, "pipelines") => post_pipelines(&mut state, body),
        (Method::Put, "analytics/ci/builds") => put_build(&mut state, body),
        (Method::Post, "test-results") => post_test_results(&mut state, query, body),
        (Method::Get, task) if task.starts_with("test-results/") => get_task(&mut state, task),
        _ => octane_error(
            404,
            "platform.not_found",
            &format!("no such resource: {method} {path}"),
        ),
    };
    if answer.status >= 400 {
        let reason = format!("{method} {path} -> {}: {}", answer.status, answer.body);
        // A 409 on create is part of the documented race handling, not a client bug.
        if answer.status != 409 {
            state.violations.push(reason);
        }
    }
    if state.rotate_cookies {
        let fresh = format!("rotated-{}", next_id());
        if let Some(old) = session_cookie(headers) {
            state.sessions.retain(|s| *s != old);
        }
        state.sessions.push(fresh.clone());
        answer.headers.push((
            "Set-Cookie".into(),
            format!("LWSSO_COOKIE_KEY={fresh}; Path=/; HttpOnly"),
        ));
    }
    answer
}

fn sign_in(state: &mut State, headers: &[(String, String)], body: &str) -> Answer {
    if header(headers, "cookie").is_some() {
        state
            .violations
            .push("sign-in sent with old cookies".to_string());
    }
    if !header(headers, "content-type").is_some_and(|c| c.starts_with("application/json")) {
        state
            .violations
            .push("sign-in without `Content-Type: application/json`".to_string());
    }
    let Ok(value) = serde_json::from_str::<Value>(body) else {
        state
            .violations
            .push("sign-in body is not JSON".to_string());
        return octane_error(400, "platform.invalid_json", "Invalid JSON");
    };
    let id = value.get("client_id").and_then(Value::as_str);
    let secret = value.get("client_secret").and_then(Value::as_str);
    if id != Some(FAKE_CLIENT_ID) || secret != Some(FAKE_CLIENT_SECRET) {
        return octane_error(
            401,
            "platform.authentication_failed",
            "Invalid client id or secret",
        );
    }
    state.sign_ins += 1;
    let token = format!("session-{}", next_id());
    state.sessions.push(token.clone());
    Answer {
        status: 200,
        headers: vec![
            (
                "Set-Cookie".into(),
                format!("LWSSO_COOKIE_KEY={token}; Path=/; HttpOnly"),
            ),
            (
                "Set-Cookie".into(),
                format!("OCTANE_USER={FAKE_CLIENT_ID}; Path=/"),
            ),
        ],
        body: "{}".to_string(),
    }
}

/// Reads `fields` and the quoted `query` parameter.
fn parse_query(query: &str) -> Result<(String, String), String> {
    let mut fields = None;
    let mut expression = None;
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if value.contains('+') {
            return Err(format!("`+` in parameter `{name}`: spaces must be %20"));
        }
        let value = percent_decode_str(value)
            .decode_utf8()
            .map_err(|_| format!("parameter `{name}` is not UTF-8"))?
            .into_owned();
        match name {
            "fields" => fields = Some(value),
            "query" => expression = Some(value),
            _ => return Err(format!("unknown parameter `{name}`")),
        }
    }
    let expression = expression.ok_or("no `query` parameter")?;
    let inner = expression
        .strip_prefix('"')
        .and_then(|e| e.strip_suffix('"'))
        .ok_or("the query is not wrapped in double quotes")?;
    Ok((fields.unwrap_or_default(), inner.to_string()))
}

/// Parses `prefix ^literal^` at the start of `text`; returns the literal and the rest.
/// Inside a literal, `\` escapes the next character; bare `(`, `)` or `\` at the end are errors.
fn take_literal<'t>(text: &'t str, prefix: &str) -> Result<(String, &'t str), String> {
    let rest = text
        .strip_prefix(prefix)
        .ok_or_else(|| format!("expected `{prefix}` in `{text}`"))?;
    let rest = rest
        .strip_prefix('^')
        .ok_or("a literal must start with `^`")?;
    let mut value = String::new();
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, escaped)) => value.push(escaped),
                None => return Err("a literal ends with a lone backslash".into()),
            },
            '^' => return Ok((value, &rest[i + 1..])),
            '(' | ')' => return Err(format!("unescaped `{c}` in a literal")),
            _ => value.push(c),
        }
    }
    Err("a literal is not closed with `^`".into())
}

fn collection(items: Vec<Value>) -> Answer {
    answer(
        200,
        json!({"total_count": items.len(), "data": items, "exceeds_total_count": false}),
    )
}

fn get_servers(state: &mut State, query: &str) -> Answer {
    let parsed = parse_query(query).and_then(|(_, expr)| {
        let (instance_id, rest) = take_literal(&expr, "instance_id EQ ")?;
        if rest.is_empty() {
            Ok(instance_id)
        } else {
            Err(format!("unexpected `{rest}`"))
        }
    });
    let instance_id = match parsed {
        Ok(id) => id,
        Err(e) => return octane_error(400, "platform.illegal_query", &e),
    };
    let items = state
        .servers
        .iter()
        .filter(|s| s.instance_id == instance_id)
        .map(|s| json!({"type": "ci_server", "id": s.id, "instance_id": s.instance_id, "name": s.name}))
        .collect();
    collection(items)
}

/// Returns `data[0]` of a create request, or the error answer.
fn single_entity(body: &str) -> Result<serde_json::Map<String, Value>, Answer> {
    let value: Value = serde_json::from_str(body)
        .map_err(|_| octane_error(400, "platform.invalid_json", "Invalid JSON"))?;
    let data = value.get("data").and_then(Value::as_array);
    match data.map(Vec::as_slice) {
        Some([Value::Object(entity)]) => Ok(entity.clone()),
        _ => Err(octane_error(
            400,
            "platform.invalid_body",
            "expected {\"data\":[{...}]}",
        )),
    }
}

fn string_field(
    entity: &serde_json::Map<String, Value>,
    name: &str,
    max: usize,
) -> Result<String, Answer> {
    match entity.get(name) {
        Some(Value::String(text)) if !text.is_empty() && text.chars().count() <= max => {
            Ok(text.clone())
        }
        Some(Value::String(_)) => Err(octane_error(
            400,
            "platform.illegal_field_value",
            &format!("field `{name}` must have 1 to {max} characters"),
        )),
        Some(_) => Err(octane_error(
            400,
            "platform.illegal_field_value",
            &format!("field `{name}` must be a string"),
        )),
        None => Err(octane_error(
            400,
            "platform.missing_required_field",
            &format!("field `{name}` is required"),
        )),
    }
}

fn post_servers(state: &mut State, body: &str) -> Answer {
    let entity = match single_entity(body) {
        Ok(entity) => entity,
        Err(answer) => return answer,
    };
    let fields = (|| {
        Ok::<_, Answer>((
            string_field(&entity, "name", 255)?,
            string_field(&entity, "instance_id", 255)?,
            string_field(&entity, "server_type", 255)?,
        ))
    })();
    let (name, instance_id, server_type) = match fields {
        Ok(fields) => fields,
        Err(answer) => return answer,
    };
    let url = match entity.get("url") {
        None => None,
        Some(Value::String(url)) if url.chars().count() <= 255 => Some(url.clone()),
        Some(_) => {
            return octane_error(
                400,
                "platform.illegal_field_value",
                "field `url` must be a string of up to 255 characters",
            );
        }
    };
    if state.servers.iter().any(|s| s.instance_id == instance_id) {
        return octane_error(
            409,
            "platform.duplicate_entity_error",
            "A CI server with this instance id already exists.",
        );
    }
    let id = next_id();
    state.servers.push(CiServer {
        id: id.clone(),
        instance_id,
        name,
        server_type,
        url,
    });
    answer(
        201,
        json!({"total_count": 1, "data": [{"type": "ci_server", "id": id}]}),
    )
}

fn get_pipelines(state: &mut State, query: &str) -> Answer {
    let parsed = parse_query(query).and_then(|(_, expr)| {
        let (job, rest) = take_literal(&expr, "root_job EQ {ci_id EQ ")?;
        let (server, rest) = take_literal(rest, "};ci_server EQ {id EQ ")?;
        if rest == "}" {
            Ok((job, server))
        } else {
            Err(format!("unexpected `{rest}`"))
        }
    });
    let (job, server) = match parsed {
        Ok(pair) => pair,
        Err(e) => return octane_error(400, "platform.illegal_query", &e),
    };
    let items = state
        .pipelines
        .iter()
        .filter(|p| p.root_job_ci_id == job && p.server_id == server)
        .map(|p| json!({"type": "pipeline", "id": p.id, "name": p.name}))
        .collect();
    collection(items)
}

fn post_pipelines(state: &mut State, body: &str) -> Answer {
    let entity = match single_entity(body) {
        Ok(entity) => entity,
        Err(answer) => return answer,
    };
    let fields = (|| {
        Ok::<_, Answer>((
            string_field(&entity, "name", 255)?,
            string_field(&entity, "server_ci_id", 4000)?,
            string_field(&entity, "root_job_ci_id", 4000)?,
        ))
    })();
    let (name, server_ci_id, root_job_ci_id) = match fields {
        Ok(fields) => fields,
        Err(answer) => return answer,
    };
    let jobs = entity
        .get("jobs")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let has_root = jobs.iter().any(|job| {
        job.get("jobCiId").and_then(Value::as_str) == Some(root_job_ci_id.as_str())
            && job
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| !n.is_empty())
    });
    if !has_root {
        return octane_error(
            400,
            "platform.illegal_field_value",
            "`jobs` must contain the root job with `jobCiId` and `name`",
        );
    }
    let Some(server_id) = state
        .servers
        .iter()
        .find(|s| s.instance_id == server_ci_id)
        .map(|s| s.id.clone())
    else {
        return octane_error(
            400,
            "platform.illegal_field_value",
            "no CI server with this `server_ci_id`",
        );
    };
    if state.pipelines.iter().any(|p| p.name == name) {
        return octane_error(
            409,
            "platform.duplicate_entity_error",
            "A pipeline with this name already exists.",
        );
    }
    let id = next_id();
    state.pipelines.push(Pipeline {
        id: id.clone(),
        name,
        server_id,
        root_job_ci_id,
    });
    answer(
        201,
        json!({"total_count": 1, "data": [{"type": "pipeline", "id": id}]}),
    )
}

const RESULTS: [&str; 5] = ["success", "failure", "unstable", "aborted", "unavailable"];

fn put_build(state: &mut State, body: &str) -> Answer {
    let Ok(Value::Object(report)) = serde_json::from_str::<Value>(body) else {
        return octane_error(
            400,
            "platform.invalid_json",
            "the build report must be a JSON object",
        );
    };
    let text = |name: &str| {
        report
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(String::from)
    };
    let number = |name: &str| report.get(name).and_then(Value::as_i64);
    let (Some(server), Some(job), Some(build), Some(build_name)) = (
        text("serverCiId"),
        text("jobCiId"),
        text("buildCiId"),
        text("buildName"),
    ) else {
        return octane_error(
            400,
            "platform.missing_required_field",
            "serverCiId, jobCiId, buildCiId and buildName are required strings",
        );
    };
    let (Some(start_time), Some(duration)) = (number("startTime"), number("duration")) else {
        return octane_error(
            400,
            "platform.illegal_field_value",
            "startTime and duration must be integers",
        );
    };
    // Epoch seconds would be a date in 1970 when read as milliseconds.
    if start_time < 100_000_000_000 {
        return octane_error(
            400,
            "platform.illegal_field_value",
            "startTime must be epoch milliseconds",
        );
    }
    if duration < 0 {
        return octane_error(
            400,
            "platform.illegal_field_value",
            "duration must not be negative",
        );
    }
    if !matches!(text("status").as_deref(), Some("finished" | "running")) {
        return octane_error(
            400,
            "platform.illegal_field_value",
            "status must be finished or running",
        );
    }
    let Some(result) = text("result").filter(|r| RESULTS.contains(&r.as_str())) else {
        return octane_error(400, "platform.illegal_field_value", "unknown result");
    };
    let Some(server_id) = state
        .servers
        .iter()
        .find(|s| s.instance_id == server)
        .map(|s| s.id.clone())
    else {
        return octane_error(
            404,
            "platform.entity_not_found",
            "no CI server with this serverCiId",
        );
    };
    if !state
        .pipelines
        .iter()
        .any(|p| p.server_id == server_id && p.root_job_ci_id == job)
    {
        return octane_error(
            404,
            "platform.entity_not_found",
            "no pipeline job with this jobCiId on the server",
        );
    }
    match state
        .builds
        .iter_mut()
        .find(|b| b.server_ci_id == server && b.job_ci_id == job && b.build_ci_id == build)
    {
        Some(existing) => {
            existing.build_name = build_name;
            existing.start_time = start_time;
            existing.duration = duration;
            existing.result = result;
            existing.reports += 1;
        }
        None => state.builds.push(Build {
            server_ci_id: server,
            job_ci_id: job,
            build_ci_id: build,
            build_name,
            start_time,
            duration,
            result,
            reports: 1,
        }),
    }
    answer(200, json!({}))
}

fn post_test_results(state: &mut State, query: &str, body: &str) -> Answer {
    if query != "skip-errors=true" && query != "skip-errors=false" {
        return octane_error(
            400,
            "platform.illegal_query",
            "expected skip-errors=true|false",
        );
    }
    if !body.trim_start().starts_with("<?xml") && !body.trim_start().starts_with("<test_result") {
        return octane_error(
            400,
            "testbox.invalid_xml",
            "the body is not a test_result document",
        );
    }
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    state.test_uploads.push((id, body.to_string()));
    answer(202, json!({"status": "queued", "id": id}))
}

fn get_task(state: &mut State, task: &str) -> Answer {
    let id = task.trim_start_matches("test-results/");
    let Ok(id) = id.parse::<u64>() else {
        return octane_error(
            400,
            "platform.illegal_field_value",
            "task id must be a number",
        );
    };
    if !state.test_uploads.iter().any(|(task_id, _)| *task_id == id) {
        return octane_error(404, "platform.entity_not_found", "no such task");
    }
    let status = if state.task_statuses.is_empty() {
        "success".to_string()
    } else {
        state.task_statuses.remove(0)
    };
    answer(
        200,
        json!({"id": id, "status": status, "until": "2026-03-14T09:27:00+0000"}),
    )
}

/// Builds are keyed like this in the fake's map.
pub fn build_key(build: &Build) -> (String, String, String) {
    (
        build.server_ci_id.clone(),
        build.job_ci_id.clone(),
        build.build_ci_id.clone(),
    )
}

/// Counts builds per key, to check that a re-sent build updated the same one.
pub fn builds_by_key(builds: &[Build]) -> BTreeMap<(String, String, String), u32> {
    builds.iter().map(|b| (build_key(b), b.reports)).collect()
}
