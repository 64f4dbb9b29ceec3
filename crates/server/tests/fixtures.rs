//! Every real Autopilot export imports into the store, exports, and imports
//! again to the same assistant; and trains.

mod common;

use common::*;

#[tokio::test]
async fn every_fixture_round_trips_through_the_store_and_trains() {
    let t = TestServer::start(|_| {}).await;
    let names = fixture_names();
    assert_eq!(names.len(), 8);
    for name in &names {
        let original = otto_model::import_schema(&fixture(name)).unwrap();
        let sid = t
            .otto
            .store
            .import_assistant(&t.account().sid, &original)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let exported = t
            .otto
            .store
            .export_assistant(&t.account().sid, sid.as_str())
            .await
            .unwrap();
        let again = otto_model::import_schema(&exported).unwrap();
        assert_eq!(again, original, "{name}");
        // Exporting the re-import gives the same file.
        assert_eq!(otto_model::export_schema(&again), exported, "{name}");
        let (_, loaded) = t
            .otto
            .store
            .load_assistant(&t.account().sid, sid.as_str())
            .await
            .unwrap();
        assert_eq!(loaded, original, "{name}");
        t.train(&sid).await;
        // Delete it so the next fixture can reuse a unique name (two share one).
        t.otto
            .store
            .delete_assistant(&t.account().sid, sid.as_str())
            .await
            .unwrap();
    }
}
