"""Bad input: each mistake a curator can make gets a clear message, exit code 3, no output."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Project

CURATION = Path("curation") / "1945-07-11-harriman-soong.yaml"


def break_curation(project: Project, old: str, new: str) -> Path:
    path = project.data / CURATION
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in the curation file"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(needle)


def build_fails(project: Project, capsys: pytest.CaptureFixture[str]) -> str:
    code = project.run("build")
    err = capsys.readouterr().err
    assert code == 3, err
    assert err.startswith("Error: ")
    assert "Traceback" not in err
    # The chunks that did compile may be cached (build/cache/chunks), but no output,
    # no store and no manifest: nothing claims that the failed input was built.
    written = sorted(p.relative_to(project.build).as_posix()
                     for p in project.build.rglob("*") if p.is_file()) \
        if project.build.exists() else []
    assert not [p for p in written if not p.startswith("cache/chunks/")], written
    return err


def test_yaml_syntax_error_names_file_and_line(scratch: Project,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = break_curation(scratch, "  - id: c09\n    act: Demand",
                          "  - id: c09\n    act: Demand: insists")
    err = build_fails(scratch, capsys)
    assert "YAML syntax error" in err
    line = line_of(path, "act: Demand: insists")
    assert f"{CURATION.name}:{line}: mapping values are not allowed here" in err


def test_unknown_entity(scratch: Project, capsys: pytest.CaptureFixture[str]) -> None:
    path = break_curation(scratch, "  - id: c09\n    act: Demand\n    actor: stalin",
                          "  - id: c09\n    act: Demand\n    actor: staline")
    err = build_fails(scratch, capsys)
    line = line_of(path, "actor: staline")
    assert f"{CURATION.name}:{line}: claim c09: unknown entity 'staline' in actor" in err
    assert "did you mean stalin" in err


def test_unknown_act_type(scratch: Project, capsys: pytest.CaptureFixture[str]) -> None:
    path = break_curation(scratch, "  - id: c09\n    act: Demand", "  - id: c09\n    act: Demmand")
    err = build_fails(scratch, capsys)
    line = line_of(path, "act: Demmand")
    assert f"{CURATION.name}:{line}: claim c09: unknown act type 'Demmand'" in err
    assert "did you mean Demand?" in err


def test_missing_quote(scratch: Project, capsys: pytest.CaptureFixture[str]) -> None:
    break_curation(scratch, '    quote: "Stalin still insists on a majority of the directors"\n',
                   "")
    err = build_fails(scratch, capsys)
    assert "claim c09: missing quote" in err
    assert "copy the exact words" in err


def test_quote_not_in_text_suggests_the_nearest_passage(
        scratch: Project, capsys: pytest.CaptureFixture[str]) -> None:
    path = break_curation(scratch, '"Stalin still insists on a majority of the directors"',
                          '"Stalin still insisted on a majority of directors"')
    err = build_fails(scratch, capsys)
    line = line_of(path, "Stalin still insisted on a majority")
    assert (f'{CURATION.name}:{line}: claim c09: quote not found in the text: '
            '"Stalin still insisted on a majority of directors"') in err
    assert 'the nearest passage in the text is "Stalin still insists on a majority of the' in err


def test_ambiguous_quote(scratch: Project, capsys: pytest.CaptureFixture[str]) -> None:
    path = break_curation(scratch, '    quote: "which Soong has resisted"',
                          '    quote: "Stalin still insists"')
    err = build_fails(scratch, capsys)
    line = line_of(path, 'quote: "Stalin still insists"')
    assert (f'{CURATION.name}:{line}: claim c10: ambiguous quote: "Stalin still insists" '
            "occurs 2 times") in err
    assert "occurrence: N" in err


def test_invalid_date(scratch: Project, capsys: pytest.CaptureFixture[str]) -> None:
    path = break_curation(scratch, "    date: 1945-07-12\n    time_expression: tomorrow night",
                          "    date: 1945-07-32\n    time_expression: tomorrow night")
    err = build_fails(scratch, capsys)
    line = line_of(path, "date: 1945-07-32")
    assert f"{CURATION.name}:{line}: claim c20: invalid date '1945-07-32'" in err
    assert "YYYY-MM-DD" in err


def test_changed_source_text_fails_the_checksum(scratch: Project,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    text = scratch.data / "text" / "1945-07-11-harriman-soong.txt"
    text.write_bytes(text.read_bytes().replace(b"tomorrow night", b"tomorrow morning"))
    err = build_fails(scratch, capsys)
    assert "the text ../text/1945-07-11-harriman-soong.txt has changed" in err
    assert "update sha256" in err


def test_quote_across_an_editorial_gloss(scratch: Project,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    split = ('    quote:\n'
             '      - "Stalin still insists that the military zone under Russian control '
             'should include Dairen"\n'
             '      - "as well as Port Arthur"')
    across = '"should include Dairen [Dalian] as well as Port Arthur"'
    break_curation(scratch, split, f"    quote: {across}")
    err = build_fails(scratch, capsys)
    assert f'claim c12: quote {across} runs across the editorial gloss "[Dalian]"' in err


def test_failed_build_keeps_the_previous_good_outputs(
        scratch: Project, capsys: pytest.CaptureFixture[str]) -> None:
    assert scratch.run("build") == 0
    def outputs() -> dict[str, bytes]:
        # The outputs, and the manifest that says which chunk each graph of the store holds.
        files = [p for p in scratch.build.iterdir() if p.is_file()]
        return {p.name: p.read_bytes() for p in [*files, scratch.build / "cache/manifest.json"]}

    before = outputs()
    break_curation(scratch, "    act: Demand", "    act: Nonsense")
    assert scratch.run("build") == 3
    assert "unknown act type 'Nonsense'" in capsys.readouterr().err
    assert outputs() == before


def test_all_problems_are_reported_together(scratch: Project,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    break_curation(scratch, "    act: Demand", "    act: Nonsense")
    break_curation(scratch, "    actor: soong", "    actor: nobody")
    err = build_fails(scratch, capsys)
    assert "2 problem(s)" in err
    assert "unknown act type 'Nonsense'" in err and "unknown entity 'nobody'" in err


def test_registry_errors_name_the_line(scratch: Project,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    registry = scratch.data / "entities.yaml"
    registry.write_text(registry.read_text(encoding="utf-8").replace(
        "stalin:\n  type: Person", "stalin:\n  type: Persona", 1), encoding="utf-8")
    err = build_fails(scratch, capsys)
    line = line_of(registry, "type: Persona")
    assert f"entities.yaml:{line}: stalin: unknown type 'Persona'" in err
    assert "did you mean Person?" in err
    assert "1 problem(s)" in err, "entries naming stalin must not be reported as well"


def test_undefined_reason_name_is_refused(scratch: Project,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A mistyped reason name must not be recorded as the reason itself."""
    path = break_curation(scratch, "      counterparty: soong-counterpart\n",
                          "      counterparty: soong-counterparts\n")
    err = build_fails(scratch, capsys)
    line = line_of(path, "counterparty: soong-counterparts")
    assert f"{CURATION.name}:{line}: claim c05: unknown reason name 'soong-counterparts'" in err
    assert "soong-counterpart" in err.split("hint:", 1)[1]  # the names it could be


def test_a_single_valued_field_refuses_a_list(scratch: Project,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = break_curation(scratch, "    meeting: meeting-1945-07-11\n    quote: \"Generalissimo",
                          "    meeting: [meeting-1945-07-11, meeting-1945-07-12]\n"
                          "    quote: \"Generalissimo")
    err = build_fails(scratch, capsys)
    line = line_of(path, "meeting: [meeting-1945-07-11, meeting-1945-07-12]")
    assert f"{CURATION.name}:{line}: claim c05: meeting takes one key, not 2" in err


def test_speaker_null_is_refused(scratch: Project, capsys: pytest.CaptureFixture[str]) -> None:
    path = break_curation(scratch, "    speaker: harriman\n    heard_by: null\n    inferred:\n"
                                   "      date: '\"tonight\"",
                          "    speaker: null\n    heard_by: null\n    inferred:\n"
                          "      date: '\"tonight\"")
    err = build_fails(scratch, capsys)
    line = line_of(path, "speaker: null")
    assert f"{CURATION.name}:{line}: claim c01: speaker: null leaves the claim" in err


def test_a_layer_with_an_unknown_author_is_one_problem(scratch: Project,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = break_curation(scratch, "    author: wilson-center-archive\n    from: \"**July 11",
                          "    author: wilson-centre\n    from: \"**July 11")
    err = build_fails(scratch, capsys)
    line = line_of(path, "author: wilson-centre")
    assert f"{CURATION.name}:{line}: layer catalogue: unknown entity 'wilson-centre'" in err
    assert "lies outside every layer" not in err


# --- Schema extensions of issue 12: conditions, final terms, partial texts --------------

JULY_10 = Path("curation") / "1945-07-10-harriman-outer-mongolia-sinkiang.yaml"
AUGUST_14 = Path("curation") / "1945-08-14-harriman-141040.yaml"


def break_file(project: Project, name: Path, old: str, new: str) -> Path:
    path = project.data / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in {name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_subject_to_takes_issues(scratch: Project, capsys: pytest.CaptureFixture[str]) -> None:
    path = break_file(scratch, JULY_10, "    subject_to: [soviet-support-national-government]\n"
                      "    quote:\n      - \"Agreement appears",
                      "    subject_to: [roc-government]\n    quote:\n      - \"Agreement appears")
    err = build_fails(scratch, capsys)
    line = line_of(path, "subject_to: [roc-government]")
    assert (f"{JULY_10.name}:{line}: claim x04: subject_to must be of type Issue, but "
            "roc-government is of type Government") in err


def test_subject_to_may_not_name_the_claims_own_issue(
        scratch: Project, capsys: pytest.CaptureFixture[str]) -> None:
    path = break_file(scratch, JULY_10, "    subject_to: [soviet-support-national-government]\n"
                      "    quote:\n      - \"Agreement appears",
                      "    subject_to: [outer-mongolia-status]\n    quote:\n"
                      "      - \"Agreement appears")
    err = build_fails(scratch, capsys)
    line = line_of(path, "subject_to: [outer-mongolia-status]")
    assert f"{JULY_10.name}:{line}: claim x04: subject_to names the claim's own issue" in err
    assert "the other issues whose settlement the act awaits" in err


def test_term_of_takes_one_instrument(scratch: Project,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = break_file(scratch, AUGUST_14, "    issue: railway-guards\n",
                      "    issue: railway-guards\n"
                      "    term_of: [sino-soviet-agreement-1945, yalta-agreement]\n")
    break_file(scratch, AUGUST_14,
               "    term_of: sino-soviet-agreement-1945\n    quote: \"No Soviet",
               "    quote: \"No Soviet")
    err = build_fails(scratch, capsys)
    line = line_of(path, "term_of: [sino-soviet-agreement-1945, yalta-agreement]")
    assert f"{AUGUST_14.name}:{line}: claim z05: term_of takes one key, not 2" in err


def test_breaks_off_must_quote_where_the_transcript_ends(
        scratch: Project, capsys: pytest.CaptureFixture[str]) -> None:
    path = break_file(scratch, AUGUST_14,
                      '    quote: "Soviet Government agre"\n    occurrence: 2\n',
                      '    quote: "No Soviet guards are permitted on the railroads"\n')
    err = build_fails(scratch, capsys)
    line = line_of(path, 'quote: "No Soviet guards are permitted on the railroads"')
    assert (f'{AUGUST_14.name}:{line}: document breaks_off: breaks_off quote "No Soviet guards '
            'are permitted on the railroads" is not where the transcript ends') in err
    assert "end the transcript layer there" in err


def test_breaks_off_needs_a_value(scratch: Project, capsys: pytest.CaptureFixture[str]) -> None:
    path = break_file(scratch, AUGUST_14,
                      "    value: The stored copy breaks off mid-word in point (4)",
                      '    value: ""\n    # The stored copy breaks off mid-word in point (4)')
    err = build_fails(scratch, capsys)
    line = line_of(path, "value: \"\"")
    assert (f"{AUGUST_14.name}:{line}: document breaks_off: breaks_off needs a text `value:` "
            "saying how the text is incomplete") in err


def test_a_document_date_without_a_value_is_an_error(
        scratch: Project, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by the fuzz test: the build used to accept it and had no document date."""
    path = break_curation(scratch, "    value: 1945-07-11\n", "")
    err = build_fails(scratch, capsys)
    assert f"{CURATION.name}:{line_of(path, 'date:')}: document date: date needs `value:`" in err


def _lines(value: object) -> object:
    """A parsed YAML value with every mapping's and sequence's line marks made visible."""
    if isinstance(value, dict):
        return ("map", getattr(value, "line", None), getattr(value, "key_lines", None),
                {k: _lines(v) for k, v in value.items()})
    if isinstance(value, list):
        return ("seq", getattr(value, "line", None), [_lines(v) for v in value])
    return (type(value).__name__, value)


def test_fast_yaml_parser_reads_the_corpus_as_the_python_one_does() -> None:
    """libyaml's parser (used when PyYAML has it) gives the same values and line marks."""
    import yaml

    from kg import yamlio

    root = Path(__file__).resolve().parent.parent / "data"
    files = [*sorted(root.glob("curation/*.yaml")), root / "entities.yaml"]
    assert len(files) > 3
    for path in files:
        text = path.read_text(encoding="utf-8")
        fast = yaml.load(text, Loader=yamlio._FastLoader)  # noqa: S506
        slow = yaml.load(text, Loader=yamlio._Loader)  # noqa: S506
        assert _lines(fast) == _lines(slow), path.name
    assert yamlio._FastLoader.__mro__[1] is getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def test_a_reader_that_stops_early_ends_the_command_quietly() -> None:
    """`kg query --list | head -1`: no traceback when the pipe closes, and the exit
    status of a tool ended by SIGPIPE."""
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-m", "kg", "query", "--list"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               cwd=Path(__file__).resolve().parent.parent)
    assert process.stdout is not None
    process.stdout.close()  # before it writes anything
    _, err = process.communicate(timeout=120)
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
    assert process.returncode == 141
