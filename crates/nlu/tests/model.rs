//! The trained model end to end: training, parsing, fields, out-of-scope,
//! restrictions, the file format, and hostile input.

use otto_nlu::{
    CustomFieldType, CustomValue, FieldData, Language, Model, ModelError, ParseOptions, Sample,
    TaskData, TrainOptions, TrainingData,
};

fn value(value: &str, synonym_of: Option<&str>) -> CustomValue {
    CustomValue {
        value: value.into(),
        synonym_of: synonym_of.map(Into::into),
    }
}

fn task(name: &str, samples: &[&str], fields: &[(&str, &str)]) -> TaskData {
    TaskData {
        name: name.into(),
        samples: samples.iter().map(|s| Sample::from(*s)).collect(),
        fields: fields
            .iter()
            .map(|(name, field_type)| FieldData {
                name: (*name).into(),
                field_type: (*field_type).into(),
            })
            .collect(),
    }
}

/// A pizza place: greeting, ordering with a size and a count, opening hours, goodbye.
fn pizza() -> TrainingData {
    TrainingData {
        language: Language::English,
        field_types: vec![CustomFieldType {
            name: "Pizza.SIZE".into(),
            values: vec![
                value("large", None),
                value("small", None),
                value("medium", None),
                value("big", Some("large")),
                value("family size", Some("large")),
            ],
        }],
        tasks: vec![
            task(
                "greeting",
                &[
                    "hello",
                    "hi there",
                    "good morning",
                    "hey",
                    "hi, how are you",
                ],
                &[],
            ),
            task(
                "order_pizza",
                &[
                    "I want a {size} pizza",
                    "order {count} {size} pizzas",
                    "can I get a {size} pepperoni pizza",
                    "I'd like to order a pizza",
                    "{count} pizzas please",
                    "get me a {size} margherita",
                    "I want to order {count} pizzas for delivery",
                ],
                &[("size", "Pizza.SIZE"), ("count", "Twilio.NUMBER")],
            ),
            task(
                "opening_hours",
                &[
                    "when are you open",
                    "what are your opening hours",
                    "are you open on sunday",
                    "what time do you close",
                    "until when are you open tonight",
                ],
                &[],
            ),
            task(
                "goodbye",
                &[
                    "bye",
                    "goodbye",
                    "see you later",
                    "that's all, thanks",
                    "no thanks, bye",
                ],
                &[],
            ),
        ],
        out_of_scope: vec![],
    }
}

fn trained() -> Model {
    Model::train(&pizza(), &TrainOptions::default(), &mut |_| {}).expect("trains")
}

fn parse(model: &Model, text: &str) -> otto_nlu::Parse {
    model.parse(text, &ParseOptions::default())
}

#[test]
fn classifies_unseen_utterances() {
    let model = trained();
    assert_eq!(parse(&model, "hello!").task.as_deref(), Some("greeting"));
    assert_eq!(
        parse(&model, "i would like two large pizzas")
            .task
            .as_deref(),
        Some("order_pizza")
    );
    assert_eq!(
        parse(&model, "What are your hours on Sunday?")
            .task
            .as_deref(),
        Some("opening_hours")
    );
    assert_eq!(
        parse(&model, "ok bye then").task.as_deref(),
        Some("goodbye")
    );
}

#[test]
fn reports_autopilot_confidence_and_the_runner_up() {
    let model = trained();
    let parse = parse(&model, "can I order a pizza");
    let p1 = parse.ranking[0].probability;
    let p2 = parse.ranking[1].probability;
    assert!((parse.confidence - (p1 - p2) / p1).abs() < 1e-6);
    assert_eq!(
        parse.next_best_task.as_deref(),
        Some(parse.ranking[1].task.as_str())
    );
    let total: f32 = parse.ranking.iter().map(|s| s.probability).sum();
    assert!((total - 1.0).abs() < 1e-4, "probabilities sum to {total}");
    assert!(
        parse
            .ranking
            .windows(2)
            .all(|w| w[0].probability >= w[1].probability)
    );
}

#[test]
fn finds_custom_values_with_synonyms_plurals_and_typos() {
    let model = trained();
    let parse = parse(&model, "I want a big pizza");
    let size = parse
        .fields
        .iter()
        .find(|f| f.name == "size")
        .expect("a size");
    assert_eq!((size.raw.as_str(), size.value.as_str()), ("big", "large"));
    assert_eq!((size.start, size.end), (9, 12));

    let typo = self::parse(&model, "order a meduim pizza");
    let size = typo
        .fields
        .iter()
        .find(|f| f.name == "size")
        .expect("a size");
    assert_eq!(
        (size.raw.as_str(), size.value.as_str()),
        ("meduim", "medium")
    );

    let synonym = self::parse(&model, "get me a family size margherita");
    let size = synonym
        .fields
        .iter()
        .find(|f| f.name == "size")
        .expect("a size");
    assert_eq!(size.value, "large");
}

#[test]
fn finds_built_in_values() {
    let model = trained();
    let parse = parse(&model, "order twenty-one small pizzas");
    let count = parse
        .fields
        .iter()
        .find(|f| f.name == "count")
        .expect("a count");
    assert_eq!(count.value, "21");
    assert_eq!(count.field_type, "Twilio.NUMBER");
}

#[test]
fn gibberish_is_out_of_scope() {
    let model = trained();
    let parse = parse(&model, "qwxz vbnmk plfrt");
    assert_eq!(parse.task, None);
    assert!(parse.score < model.threshold());
    assert!(parse.fields.is_empty());
}

#[test]
fn out_of_scope_examples_are_learned_when_given() {
    let mut data = pizza();
    data.out_of_scope = vec![
        "what is the weather like".into(),
        "tell me a joke".into(),
        "who won the game last night".into(),
        "what's the capital of france".into(),
        "play some music".into(),
    ];
    let model = Model::train(&data, &TrainOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(parse(&model, "tell me a funny joke").task, None);
    assert_eq!(parse(&model, "hi there").task.as_deref(), Some("greeting"));
    assert!(
        parse(&model, "tell me a funny joke")
            .ranking
            .iter()
            .all(|s| !s.task.contains("out-of-scope")),
        "the out-of-scope class is never reported as a task"
    );
}

#[test]
fn listen_tasks_restrict_the_candidates() {
    let model = trained();
    let only = ["goodbye".to_string(), "opening_hours".to_string()];
    let options = ParseOptions {
        tasks: Some(&only),
        ..ParseOptions::default()
    };
    let parse = model.parse("I want a large pizza", &options);
    assert!(parse.ranking.iter().all(|s| only.contains(&s.task)));
    assert_ne!(parse.task.as_deref(), Some("order_pizza"));
    // A training sample of an excluded task is not answered from memory either.
    assert_ne!(
        model.parse("hello", &options).task.as_deref(),
        Some("greeting")
    );
}

#[test]
fn training_is_deterministic_and_the_file_round_trips() {
    let a = trained().to_bytes();
    let b = trained().to_bytes();
    assert!(a == b, "the same data gives the same model, byte for byte");
    let model = Model::from_bytes(&a).expect("reads back");
    assert!(
        model.to_bytes() == a,
        "a model read back writes the same bytes"
    );
    assert_eq!(
        parse(&model, "a big pizza please"),
        parse(&trained(), "a big pizza please")
    );
}

#[test]
fn copies_without_open_values_change_only_models_with_such_values() {
    let masking = |enabled: bool| {
        let mut options = TrainOptions::default();
        options.classifier.masking.enabled = enabled;
        options
    };
    let train = |data: &TrainingData, enabled: bool| {
        Model::train(data, &masking(enabled), &mut |_| {})
            .expect("trains")
            .to_bytes()
    };
    // No fields at all: the copies are none and the model is the same.
    let mut plain = pizza();
    plain.tasks.retain(|t| t.fields.is_empty());
    assert!(train(&plain, true) == train(&plain, false));
    // Annotated samples whose titles all differ: copies without them train too.
    let mut data = plain;
    let titles = ["Heat Wave", "Blue Moon", "Red Sky", "Gold Rush"];
    data.field_types.push(CustomFieldType {
        name: "Movie.TITLE".into(),
        values: titles.iter().map(|t| value(t, None)).collect(),
    });
    let mut movies = task("watch_movie", &[], &[("title", "Movie.TITLE")]);
    movies.samples = titles
        .iter()
        .zip([
            "I want to watch",
            "where can I see",
            "show me",
            "is it playing:",
        ])
        .map(|(title, context)| {
            let text = format!("{context} {title}");
            Sample::Annotated {
                fields: vec![otto_nlu::Annotation {
                    field: "title".into(),
                    start: context.len() + 1,
                    end: text.len(),
                }],
                text,
            }
        })
        .collect();
    data.tasks.push(movies);
    assert!(train(&data, true) != train(&data, false));
    let model = Model::train(&data, &masking(true), &mut |_| {}).expect("trains");
    assert_eq!(
        parse(&model, "where can I see Dark Water").task.as_deref(),
        Some("watch_movie")
    );
}

/// Two tasks whose samples are a few words around a title, each title once.
fn titles() -> TrainingData {
    let movies = [
        "Heat Wave",
        "Blue Moon",
        "Red Sky",
        "Gold Rush",
        "Dark Water",
        "Iron Lady",
        "Silent Night",
        "Lost Harbour",
    ];
    let songs = [
        "Yellow Submarine",
        "Purple Rain",
        "Hotel California",
        "Let It Be",
        "Bohemian Rhapsody",
        "Wonderwall",
        "Hey Jude",
        "Africa",
    ];
    let movie_contexts = [
        "where can I see",
        "which cinema shows",
        "is there a showing of",
        "find the movie schedule for",
    ];
    let song_contexts = [
        "play",
        "put on the song",
        "I want to hear",
        "play the track",
    ];
    let annotated = |context: &str, title: &str, field: &str| {
        let text = format!("{context} {title}");
        Sample::Annotated {
            fields: vec![otto_nlu::Annotation {
                field: field.into(),
                start: context.len() + 1,
                end: text.len(),
            }],
            text,
        }
    };
    let mut watch = task("watch_movie", &[], &[("title", "Movie.TITLE")]);
    watch.samples = (movies.iter().enumerate())
        .map(|(i, m)| annotated(movie_contexts[i % 4], m, "title"))
        .collect();
    let mut play = task("play_song", &[], &[("track", "Music.TRACK")]);
    play.samples = (songs.iter().enumerate())
        .map(|(i, m)| annotated(song_contexts[i % 4], m, "track"))
        .collect();
    TrainingData {
        language: Language::English,
        field_types: vec![
            CustomFieldType {
                name: "Movie.TITLE".into(),
                values: movies.iter().map(|t| value(t, None)).collect(),
            },
            CustomFieldType {
                name: "Music.TRACK".into(),
                values: songs.iter().map(|t| value(t, None)).collect(),
            },
        ],
        tasks: vec![watch, play],
        ..Default::default()
    }
}

#[test]
fn close_calls_are_re_ranked_without_open_values_only_among_the_same_probabilities() {
    let at_parse = |on: bool| {
        let mut options = TrainOptions::default();
        options.classifier.masking.at_parse = on;
        options
    };
    // No field at all: the same model with or without the re-ranking.
    let mut plain = pizza();
    plain.tasks.retain(|t| t.fields.is_empty());
    let bytes = |data: &TrainingData, on: bool| {
        Model::train(data, &at_parse(on), &mut |_| {})
            .expect("trains")
            .to_bytes()
    };
    assert!(bytes(&plain, true) == bytes(&plain, false));
    let data = titles();
    assert!(bytes(&data, true) != bytes(&data, false));
    let on = Model::train(&data, &at_parse(true), &mut |_| {}).expect("trains");
    let off = Model::train(&data, &at_parse(false), &mut |_| {}).expect("trains");
    let utterances = [
        "where can I see Purple Rain",
        "play Heat Wave",
        "Red Sky",
        "I want to hear Gold Rush tonight",
        "which cinema shows Hey Jude",
    ];
    for text in utterances {
        let (a, b) = (parse(&on, text), parse(&off, text));
        let probabilities = |p: &otto_nlu::Parse| {
            let mut v: Vec<u32> = p.ranking.iter().map(|s| s.probability.to_bits()).collect();
            v.sort_unstable();
            v
        };
        // Only which task gets which probability may change.
        assert_eq!(probabilities(&a), probabilities(&b), "{text}");
        assert_eq!(a.score, b.score, "{text}");
        // The winner's fields are those its extractor finds either way.
        if a.task == b.task {
            assert_eq!(a.fields, b.fields, "{text}");
        }
    }
    // The context alone decides a close call: a song title after the
    // words of a movie question is scored without it.
    let otto_nlu::model::ResearchMasked {
        probabilities,
        candidates: order,
        masked,
        temperature,
        ..
    } = on
        .research_masked("where can I see Purple Rain", 2)
        .expect("classified");
    assert_eq!(order.len(), 2);
    let watch = order.iter().position(|&c| c == 0).expect("a candidate");
    let whole = temperature * probabilities[0].ln();
    assert!(masked[watch] > whole, "{masked:?} against {whole}");
    assert_eq!(
        parse(&on, "where can I see Purple Rain").task.as_deref(),
        Some("watch_movie")
    );
}

#[test]
fn damaged_model_files_are_refused() {
    let bytes = trained().to_bytes();
    assert!(matches!(
        Model::from_bytes(b"hello"),
        Err(ModelError::NotAModel)
    ));
    let mut future = bytes.clone();
    future[8] = 99;
    let error = Model::from_bytes(&future).unwrap_err();
    assert!(matches!(
        error,
        ModelError::UnsupportedVersion { found: 99 }
    ));
    assert!(error.to_string().contains("retrain"));
    let truncated = &bytes[..bytes.len() / 2];
    assert!(matches!(
        Model::from_bytes(truncated),
        Err(ModelError::Corrupt(_))
    ));
}

#[test]
fn invalid_training_data_is_refused_with_its_location() {
    let mut data = pizza();
    data.tasks[1]
        .samples
        .push(Sample::from("a {topping} pizza"));
    let error = Model::train(&data, &TrainOptions::default(), &mut |_| {}).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the training data has 1 problem(s): tasks[1] (order_pizza).samples[7]: tag {topping} names no field of this task"
    );
}

#[test]
fn hostile_input_never_panics() {
    let model = trained();
    let long = "pizza ".repeat(342); // 2,052 characters
    for text in [
        "",
        "   ",
        "?!?!",
        long.as_str(),
        "我想订一个大披萨",
        "مرحبا",
        "👋🍕🍕",
        "\u{0}\u{200B}\u{FEFF}",
        "{size} {count}",
    ] {
        let parse = model.parse(text, &ParseOptions::default());
        for field in &parse.fields {
            let chars: Vec<char> = text.chars().collect();
            let raw: String = chars[field.start..field.end].iter().collect();
            assert_eq!(raw, field.raw, "{text:?}");
        }
    }
    assert_eq!(model.parse("", &ParseOptions::default()).task, None);
}

#[test]
fn one_task_assistants_work() {
    let data = TrainingData {
        tasks: vec![task("hello", &["hi", "hello"], &[])],
        ..Default::default()
    };
    let model = Model::train(&data, &TrainOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(parse(&model, "hi").task.as_deref(), Some("hello"));
    assert_eq!(parse(&model, "something else").confidence, 1.0);
}

#[test]
fn other_languages_train_and_parse() {
    let data = TrainingData {
        language: Language::Spanish,
        tasks: vec![
            task(
                "reservar",
                &[
                    "quiero reservar una mesa",
                    "reserva para {personas} personas",
                    "me gustaría reservar mesa para mañana",
                    "hacer una reservación",
                ],
                &[("personas", "Twilio.NUMBER")],
            ),
            task(
                "horario",
                &[
                    "a qué hora abren",
                    "cuál es su horario",
                    "están abiertos el domingo",
                ],
                &[],
            ),
        ],
        ..Default::default()
    };
    let model = Model::train(&data, &TrainOptions::default(), &mut |_| {}).unwrap();
    let parse = parse(&model, "Quisiera reservar una mesa para cuatro personas");
    assert_eq!(parse.task.as_deref(), Some("reservar"));
    let people = parse
        .fields
        .iter()
        .find(|f| f.name == "personas")
        .expect("a count");
    assert_eq!(people.value, "4");
    assert_eq!(
        self::parse(&model, "¿A QUÉ HORA ABREN?").task.as_deref(),
        Some("horario")
    );
}
