# The registry of the toy model, as draftsman-gen would generate it.
from __future__ import annotations

from draftsman_runtime import Access, AggregateType, Mutation, Reader, Registry, TriggerSpec
from toy import model as m

COUNTER = AggregateType(
    name="Counter",
    business_key="name",
    fingerprint="counter-v1",
    new_document=m.new_counter,
    document_from_dict=m.CounterDocument.from_dict,
    document_to_dict=m.CounterDocument.to_dict,
    replay=m.replay_counter,
    set_key=m.set_counter_key,
    clone=m.CounterDocument.clone,
    fields=m.CounterDocument.FIELDS,
    snapshot_interval=5,
    event_ttl=3600,
    backup_interval_days=1,
    backup_ttl_days=7,
)

TALLY = AggregateType(
    name="Tally",
    business_key="name",
    fingerprint="tally-v1",
    new_document=m.new_tally,
    document_from_dict=m.TallyDocument.from_dict,
    document_to_dict=m.TallyDocument.to_dict,
    replay=m.replay_tally,
    set_key=m.set_tally_key,
    clone=m.TallyDocument.clone,
    fields=m.TallyDocument.FIELDS,
)

TRIGGERS = [
    TriggerSpec(
        source="CreateCounter",
        aggregate=COUNTER,
        flow="Counter.Create",
        model_file="toy/Counter/Create.yaml",
        create=True,
        parse=m.CreateCounter.from_payload,
        key=m.key_of,
        start=m.start_create,
        run=m.create,
    ),
    TriggerSpec(
        source="AddToCounter",
        aggregate=COUNTER,
        flow="Counter.Add",
        model_file="toy/Counter/Add.yaml",
        create=False,
        parse=m.AddToCounter.from_payload,
        key=m.key_of,
        start=m.start_add,
        run=m.add,
        idempotency_key=m.add_idempotency,
        idempotency_ttl=600,
    ),
    TriggerSpec(
        source="Reset",
        aggregate=COUNTER,
        flow="Counter.Reset",
        model_file="toy/Counter/Reset.yaml",
        create=False,
        parse=m.Reset.from_payload,
        key=m.key_of,
        start=m.start_reset,
        run=m.reset_counter,
    ),
    TriggerSpec(
        source="CreateCounter",
        aggregate=TALLY,
        flow="Tally.Open",
        model_file="toy/Tally/Open.yaml",
        create=True,
        parse=m.CreateCounter.from_payload,
        key=m.key_of,
        start=m.start_open,
        run=m.open_tally,
    ),
    TriggerSpec(
        source="Added",
        aggregate=TALLY,
        flow="Tally.Count",
        model_file="toy/Tally/Count.yaml",
        create=False,
        parse=m.Added.from_dict,
        key=m.key_of,
        start=m.start_count,
        run=m.count,
    ),
    TriggerSpec(
        source="Reset",
        aggregate=TALLY,
        flow="Tally.Reset",
        model_file="toy/Tally/Reset.yaml",
        create=False,
        parse=m.Reset.from_payload,
        key=m.key_of,
        start=m.start_tally_reset,
        run=m.reset_tally,
    ),
]

REGISTRY = Registry(
    package="toy",
    project="Toy",
    env_prefix="TOY",
    generator="hand-written",
    aggregates=[COUNTER, TALLY],
    commands={
        "CreateCounter": m.CreateCounter.from_payload,
        "AddToCounter": m.AddToCounter.from_payload,
        "Reset": m.Reset.from_payload,
    },
    triggers=TRIGGERS,
    mutations=[
        Mutation(
            namespace="Counter", name="create", command="CreateCounter", access=Access("anonymous")
        ),
        Mutation(namespace="Counter", name="add", command="AddToCounter"),
        Mutation(
            namespace="Counter", name="reset", command="Reset", access=Access("role", "admin")
        ),
        # the caller's own counter: named after them, by a field they give or one filled in
        Mutation(
            namespace="Counter", name="createOwn", command="CreateCounter", user_must_match="name"
        ),
        Mutation(
            namespace="Counter",
            name="createMine",
            command="CreateCounter",
            username_fields=("name",),
        ),
    ],
    readers=[
        Reader(aggregate="Counter", access=Access("anonymous")),
        Reader(aggregate="Tally", access=Access("role", "auditor")),
    ],
)
