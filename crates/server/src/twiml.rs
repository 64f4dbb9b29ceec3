//! TwiML (reference 21): a turn's output as the XML Twilio's messaging and
//! voice webhooks expect.
//!
//! Documents are built as a small element tree and written with quick-xml's
//! writer, so every text and attribute value is escaped by the writer and no
//! user text is ever pasted into markup. Characters XML 1.0 cannot carry
//! (control characters but tab, newline and carriage return) are dropped, so
//! the answer always parses.

use std::borrow::Cow;

use otto_engine::output::{OutputItem, PlayOutput};
use otto_engine::state::DigitsState;
use otto_engine::{HandoffOutput, Method, Output};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

/// `Content-Type` of a TwiML answer.
pub const CONTENT_TYPE: &str = "text/xml; charset=utf-8";

/// Twilio sends at most 10 media per message.
pub const MAX_MEDIA_PER_MESSAGE: usize = 10;

/// SSML elements Twilio's `<Say>` accepts with Polly and Google voices; any
/// other tag in a `say` is dropped (its text is kept).
const SSML_ELEMENTS: &[&str] = &[
    "break",
    "emphasis",
    "lang",
    "p",
    "phoneme",
    "prosody",
    "s",
    "say-as",
    "sub",
    "w",
    "amazon:domain",
    "amazon:effect",
];

/// One XML element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub name: Cow<'static, str>,
    pub attributes: Vec<(Cow<'static, str>, String)>,
    pub children: Vec<Node>,
}

/// Element content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    Text(String),
}

impl Element {
    pub fn new(name: impl Into<Cow<'static, str>>) -> Element {
        Element {
            name: name.into(),
            attributes: Vec::new(),
            children: Vec::new(),
        }
    }

    pub fn attr(mut self, name: impl Into<Cow<'static, str>>, value: impl Into<String>) -> Element {
        self.attributes.push((name.into(), value.into()));
        self
    }

    pub fn text(mut self, text: impl Into<String>) -> Element {
        self.children.push(Node::Text(text.into()));
        self
    }

    pub fn child(mut self, child: Element) -> Element {
        self.children.push(Node::Element(child));
        self
    }

    fn push(&mut self, child: Element) {
        self.children.push(Node::Element(child));
    }

    /// The document: XML declaration and this element as its root.
    pub fn to_document(&self) -> String {
        let mut writer = Writer::new(Vec::new());
        // Writing into a Vec cannot fail.
        writer
            .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
            .expect("writing into memory");
        self.write(&mut writer).expect("writing into memory");
        String::from_utf8(writer.into_inner()).expect("the writer writes UTF-8")
    }

    fn write(&self, writer: &mut Writer<Vec<u8>>) -> std::io::Result<()> {
        let attributes: Vec<(&str, String)> = self
            .attributes
            .iter()
            .map(|(name, value)| (name.as_ref(), xml_chars(value).into_owned()))
            .collect();
        let element = writer.create_element(self.name.as_ref()).with_attributes(
            attributes
                .iter()
                .map(|(name, value)| (*name, value.as_str())),
        );
        if self.children.is_empty() {
            element.write_empty()?;
            return Ok(());
        }
        element.write_inner_content(|writer| {
            for child in &self.children {
                match child {
                    Node::Element(element) => element.write(writer)?,
                    Node::Text(text) => {
                        writer.write_event(Event::Text(BytesText::new(&xml_chars(text))))?
                    }
                }
            }
            Ok(())
        })?;
        Ok(())
    }
}

/// Drops the characters XML 1.0 does not allow.
fn xml_chars(text: &str) -> Cow<'_, str> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r')
            || ('\u{20}'..='\u{D7FF}').contains(&c)
            || ('\u{E000}'..='\u{FFFD}').contains(&c)
            || c >= '\u{10000}'
    };
    if text.chars().all(allowed) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.chars().filter(|&c| allowed(c)).collect())
    }
}

/// `<Response/>`: Twilio sends or does nothing.
pub fn empty() -> String {
    Element::new("Response").to_document()
}

// ---- messaging ---------------------------------------------------------------

/// The messaging answer (SMS, MMS, WhatsApp): one `<Message>` per `say` (its
/// text, SSML removed), per `show` (`<Body>` and a `<Media>` per image, at most
/// 10 per message) and per `play` (the audio as `<Media>`), in the order the
/// assistant produced them. A hand-off has no meaning on messaging: the
/// dialogue ended, nothing more is sent.
pub fn messaging(output: &Output) -> String {
    let mut response = Element::new("Response");
    for item in &output.order {
        match *item {
            OutputItem::Say(index) => {
                if let Some(say) = output.says.get(index).filter(|say| !say.text.is_empty()) {
                    response.push(Element::new("Message").text(say.text.clone()));
                }
            }
            OutputItem::Show(index) => {
                let Some(show) = output.shows.get(index) else {
                    continue;
                };
                if show.images.is_empty() {
                    if !show.body.is_empty() {
                        response.push(Element::new("Message").text(show.body.clone()));
                    }
                    continue;
                }
                for (part, images) in show.images.chunks(MAX_MEDIA_PER_MESSAGE).enumerate() {
                    let mut message = Element::new("Message");
                    if part == 0 && !show.body.is_empty() {
                        message.push(Element::new("Body").text(show.body.clone()));
                    }
                    for image in images {
                        message.push(Element::new("Media").text(image.url.clone()));
                    }
                    response.push(message);
                }
            }
            OutputItem::Play(index) => {
                if let Some(play) = output.plays.get(index) {
                    response.push(
                        Element::new("Message").child(Element::new("Media").text(play.url.clone())),
                    );
                }
            }
        }
    }
    response.to_document()
}

// ---- voice -------------------------------------------------------------------

/// Where the voice answer sends the caller's next words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceUrls {
    /// `<Gather action>`: Twilio posts `SpeechResult` or `Digits` there.
    pub gather_action: String,
    /// Requested when the caller said nothing (`<Redirect>` after the
    /// `<Gather>`, which Twilio falls through to).
    pub no_input: String,
}

/// The voice answer: `<Say voice=…>` per `say` (SSML kept for Polly and
/// Google voices), `<Play>` per `play`; then, while the dialogue waits, a
/// `<Gather input="speech dtmf">` (the prompts inside it, so the caller may
/// interrupt them, unless `barge` is false) followed by a `<Redirect>` for
/// silence; a hand-off as `<Redirect>` to its TwiML URL or `<Enqueue
/// workflowSid>` for `taskrouter://WW…`; `<Hangup/>` when the dialogue ended.
/// Shows have nothing to show on a call and are left out.
pub fn voice(output: &Output, urls: &VoiceUrls) -> String {
    let mut spoken = Vec::new();
    for item in &output.order {
        match *item {
            OutputItem::Say(index) => {
                if let Some(say) = output.says.get(index) {
                    spoken.push(say_element(
                        &say.speech,
                        &say.text,
                        output.say_voice.as_deref(),
                    ));
                }
            }
            OutputItem::Play(index) => {
                if let Some(play) = output.plays.get(index) {
                    spoken.push(play_element(play));
                }
            }
            OutputItem::Show(_) => {}
        }
    }
    let mut response = Element::new("Response");
    let waiting = match (&output.collect_prompt, &output.listen) {
        _ if output.ended => None,
        (Some(prompt), _) => Some((prompt.voice_digits.as_ref(), prompt.barge)),
        (None, Some(listen)) => Some((listen.voice_digits.as_ref(), listen.barge)),
        (None, None) => None,
    };
    match waiting {
        Some((digits, barge)) => {
            let mut gather = gather_element(&urls.gather_action, digits);
            if barge == Some(false) {
                response
                    .children
                    .extend(spoken.into_iter().map(Node::Element));
            } else {
                gather
                    .children
                    .extend(spoken.into_iter().map(Node::Element));
            }
            response.push(gather);
            response.push(
                Element::new("Redirect")
                    .attr("method", "POST")
                    .text(urls.no_input.clone()),
            );
        }
        None => {
            response
                .children
                .extend(spoken.into_iter().map(Node::Element));
            match &output.handoff {
                Some(handoff) => response.push(handoff_element(handoff)),
                None if output.ended => response.push(Element::new("Hangup")),
                // Neither waiting nor ended cannot come out of the engine; keep
                // the caller on the line rather than hang up on them.
                None => {
                    response.push(gather_element(&urls.gather_action, None));
                    response.push(
                        Element::new("Redirect")
                            .attr("method", "POST")
                            .text(urls.no_input.clone()),
                    );
                }
            }
        }
    }
    response.to_document()
}

fn gather_element(action: &str, digits: Option<&DigitsState>) -> Element {
    let mut gather = Element::new("Gather")
        .attr("input", "speech dtmf")
        .attr("action", action)
        .attr("method", "POST")
        .attr("speechTimeout", "auto");
    if let Some(digits) = digits {
        if let Some(count) = digits.num_digits {
            gather = gather.attr("numDigits", count.to_string());
        }
        if let Some(key) = &digits.finish_on_key {
            gather = gather.attr("finishOnKey", key.clone());
        }
    }
    gather
}

fn play_element(play: &PlayOutput) -> Element {
    let mut element = Element::new("Play");
    if let Some(count) = play.loop_count {
        element = element.attr("loop", count.to_string());
    }
    element.text(play.url.clone())
}

/// `<Say>`: with a Polly or Google voice, the speech's SSML becomes SSML
/// elements (only those Twilio knows; the markup is parsed, never copied);
/// otherwise, or when the speech is not well-formed markup, the plain text.
fn say_element(speech: &str, text: &str, voice: Option<&str>) -> Element {
    let mut say = Element::new("Say");
    if let Some(voice) = voice {
        say = say.attr("voice", voice.to_owned());
    }
    let ssml_voice = voice.is_some_and(|voice| {
        let voice = voice.to_ascii_lowercase();
        voice.starts_with("polly.") || voice.starts_with("google.")
    });
    if ssml_voice
        && speech.contains('<')
        && let Some(children) = ssml_children(speech)
    {
        say.children = children;
        return say;
    }
    say.text(text.to_owned())
}

/// The speech parsed as SSML: allowed elements with their attributes, text;
/// `<speak>` and unknown elements give their content only. `None` when the
/// speech is not well-formed.
fn ssml_children(speech: &str) -> Option<Vec<Node>> {
    use quick_xml::Reader;
    use quick_xml::events::Event as ReadEvent;

    let wrapped = format!("<otto-say>{speech}</otto-say>");
    let mut reader = Reader::from_str(&wrapped);
    // The stack of open elements; `None` for a dropped tag (its content goes
    // to the element below).
    let mut stack: Vec<Option<Element>> = Vec::new();
    let mut root: Option<Vec<Node>> = None;
    let push_node = |stack: &mut Vec<Option<Element>>, node: Node| -> Option<()> {
        let target = stack.iter_mut().rev().find_map(Option::as_mut)?;
        target.children.push(node);
        Some(())
    };
    loop {
        let event = reader.read_event().ok()?;
        // Anything after the wrapper closed means the speech closed it.
        if root.is_some() && !matches!(event, ReadEvent::Eof) {
            return None;
        }
        match event {
            ReadEvent::Start(start) => {
                let element = ssml_element(&start)?;
                stack.push(element);
            }
            ReadEvent::Empty(start) => {
                if let Some(element) = ssml_element(&start)? {
                    push_node(&mut stack, Node::Element(element))?;
                }
            }
            ReadEvent::End(_) => {
                let closed = stack.pop()?;
                if stack.is_empty() {
                    root = Some(closed?.children);
                } else if let Some(element) = closed {
                    match element.name.as_ref() {
                        "otto-say" => return None,
                        _ => push_node(&mut stack, Node::Element(element))?,
                    }
                }
            }
            ReadEvent::Text(text) => {
                let text = text.xml10_content().into_owned();
                push_node(&mut stack, Node::Text(text))?;
            }
            ReadEvent::GeneralRef(reference) => {
                let name = reference.xml10_content();
                let text = match name.as_ref() {
                    "amp" => "&".to_owned(),
                    "lt" => "<".to_owned(),
                    "gt" => ">".to_owned(),
                    "quot" => "\"".to_owned(),
                    "apos" => "'".to_owned(),
                    _ => reference
                        .resolve_char_ref()
                        .ok()
                        .flatten()
                        .map(String::from)?,
                };
                push_node(&mut stack, Node::Text(text))?;
            }
            ReadEvent::CData(data) => {
                let text = data.into_inner().into_owned();
                push_node(&mut stack, Node::Text(text))?;
            }
            ReadEvent::Eof => break,
            // Comments, processing instructions, doctype: not speech.
            _ => {}
        }
    }
    if !stack.is_empty() {
        return None;
    }
    root
}

/// An element of a `say`: `Some(Some(element))` to keep, `Some(None)` to drop
/// the tag and keep its content, `None` for markup that does not read.
fn ssml_element(start: &quick_xml::events::BytesStart<'_>) -> Option<Option<Element>> {
    let name = start.name().as_ref().to_owned();
    if name == "otto-say" {
        return Some(Some(Element::new("otto-say")));
    }
    let Some(known) = SSML_ELEMENTS.iter().find(|known| **known == name) else {
        return Some(None);
    };
    let mut element = Element::new(*known);
    for attribute in start.attributes() {
        let attribute = attribute.ok()?;
        let key: &str = attribute.key.as_ref();
        // Attribute names become markup: only plain names pass.
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':'))
        {
            return None;
        }
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .ok()?
            .into_owned();
        element = element.attr(key.to_owned(), value);
    }
    Some(Some(element))
}

/// A hand-off: `taskrouter://WW…` enqueues the call in that workflow;
/// anything else is a TwiML URL the call is redirected to, with the Autopilot
/// request parameters (all but `Memory`, which could overflow a URL) added to
/// its query string so the receiving application has the dialogue's context.
fn handoff_element(handoff: &HandoffOutput) -> Element {
    if let Some(workflow) = handoff.uri.strip_prefix("taskrouter://") {
        let mut enqueue = Element::new("Enqueue").attr("workflowSid", workflow.to_owned());
        if let Some(url) = &handoff.wait_url {
            enqueue = enqueue.attr("waitUrl", url.clone());
        }
        if let Some(method) = handoff.wait_url_method {
            enqueue = enqueue.attr("waitUrlMethod", method_name(method));
        }
        if let Some(action) = &handoff.action {
            enqueue = enqueue.attr("action", action.clone());
        }
        let mut task = Element::new("Task");
        if let Some(priority) = &handoff.priority {
            task = task.attr("priority", priority.clone());
        }
        if let Some(timeout) = &handoff.timeout {
            task = task.attr("timeout", timeout.clone());
        }
        // `attributes` is an object or a JSON string of one (reference 3.10).
        let attributes = match &handoff.attributes {
            Some(value @ serde_json::Value::Object(_)) => value.to_string(),
            Some(serde_json::Value::String(text))
                if serde_json::from_str::<serde_json::Value>(text)
                    .is_ok_and(|value| value.is_object()) =>
            {
                text.clone()
            }
            _ => "{}".to_owned(),
        };
        return enqueue.child(task.text(attributes));
    }
    let method = handoff.method.unwrap_or(Method::Post);
    Element::new("Redirect")
        .attr("method", method_name(method))
        .text(with_query(&handoff.uri, &handoff.params))
}

fn method_name(method: Method) -> &'static str {
    match method {
        Method::Get => "GET",
        Method::Post => "POST",
    }
}

/// `url` with the parameters but `Memory` appended to its query string.
fn with_query(url: &str, params: &[(String, String)]) -> String {
    let pairs: Vec<(&str, &str)> = params
        .iter()
        .filter(|(name, _)| name != "Memory")
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    if pairs.is_empty() {
        return url.to_owned();
    }
    let (base, fragment) = match url.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (url, None),
    };
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let separator = if base.contains('?') { '&' } else { '?' };
    let mut joined = format!("{base}{separator}{query}");
    if let Some(fragment) = fragment {
        joined.push('#');
        joined.push_str(fragment);
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;
    use otto_engine::output::{ImageOutput, SayOutput, ShowOutput};
    use otto_engine::state::ListenState;

    fn say(output: &mut Output, speech: &str) {
        output.order.push(OutputItem::Say(output.says.len()));
        output.says.push(SayOutput {
            speech: speech.to_owned(),
            text: otto_engine::output::strip_ssml(speech),
        });
    }

    #[test]
    fn user_text_is_escaped_and_control_characters_dropped() {
        let mut output = Output::default();
        output.order.push(OutputItem::Say(0));
        output.says.push(SayOutput {
            speech: String::new(),
            text: "a </Message><Hangup/> & \u{1} \"q\"".into(),
        });
        let xml = messaging(&output);
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>a &lt;/Message&gt;&lt;Hangup/&gt; &amp;  &quot;q&quot;</Message></Response>"
        );
        assert_eq!(
            empty(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>"
        );
    }

    #[test]
    fn shows_become_media_in_chunks_of_ten() {
        let mut output = Output::default();
        output.order.push(OutputItem::Show(0));
        output.shows.push(ShowOutput {
            body: "menu".into(),
            images: (0..11)
                .map(|i| ImageOutput {
                    url: format!("https://x/{i}.png"),
                    label: None,
                })
                .collect(),
        });
        let xml = messaging(&output);
        let document = roxmltree::Document::parse(&xml).unwrap();
        let messages: Vec<_> = document
            .root_element()
            .children()
            .filter(|n| n.is_element())
            .collect();
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].children().count(), 11);
        assert_eq!(messages[1].children().count(), 1);
    }

    #[test]
    fn ssml_is_parsed_for_polly_and_plain_otherwise() {
        let el = say_element(
            "Hi <say-as interpret-as=\"digits\">123</say-as><break time=\"1s\"/> <script>x</script> &amp; bye",
            "unused",
            Some("Polly.Joanna"),
        );
        let mut root = Element::new("Response");
        root.push(el);
        assert_eq!(
            root.to_document(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Say voice=\"Polly.Joanna\">Hi <say-as interpret-as=\"digits\">123</say-as><break time=\"1s\"/> x &amp; bye</Say></Response>"
        );
        // Not well-formed: the plain text.
        let el = say_element("3 < 5 <b>", "3 < 5 ", Some("Polly.Joanna"));
        assert_eq!(el.children, vec![Node::Text("3 < 5 ".into())]);
        // A basic voice speaks text only.
        let el = say_element("<break/>hi", "hi", Some("alice"));
        assert_eq!(el.children, vec![Node::Text("hi".into())]);
        // Closing the wrapper early is not well-formed.
        let el = say_element("a</otto-say><Hangup/><otto-say>", "a", Some("Polly.Joanna"));
        assert_eq!(el.children, vec![Node::Text("a".into())]);
    }

    #[test]
    fn voice_listen_puts_prompts_inside_gather() {
        let mut output = Output::default();
        say(&mut output, "Hello");
        output.listen = Some(ListenState::default());
        let urls = VoiceUrls {
            gather_action: "https://o/v?a=1&b=2".into(),
            no_input: "https://o/v?silence".into(),
        };
        assert_eq!(
            voice(&output, &urls),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Gather input=\"speech dtmf\" action=\"https://o/v?a=1&amp;b=2\" method=\"POST\" speechTimeout=\"auto\"><Say>Hello</Say></Gather><Redirect method=\"POST\">https://o/v?silence</Redirect></Response>"
        );
    }

    #[test]
    fn handoff_urls_carry_the_request_but_memory() {
        assert_eq!(
            with_query(
                "https://x/a?k=1#f",
                &[
                    ("DialogueSid".into(), "UK1".into()),
                    ("Memory".into(), "{}".into()),
                    ("CurrentInput".into(), "a b&c".into())
                ]
            ),
            "https://x/a?k=1&DialogueSid=UK1&CurrentInput=a+b%26c#f"
        );
    }
}
