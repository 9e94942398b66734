"""Every policy file and input gets a PolicyError naming the file, the line where known and
what is allowed, in bounded work: encodings, sizes, nesting, step counts, seeds, views, paths,
stages that could never run, and the wording of the common mistakes."""

from __future__ import annotations

import pytest

from augkit import load_policy
from augkit.errors import PolicyError
from augkit.policy import MAX_BYTES, MAX_DEPTH, MAX_ECHO, MAX_SEED, MAX_STEPS, MAX_VIEWS


def _error(source, **kwargs) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        load_policy(source, **kwargs)
    return info.value


# ---- encodings ------------------------------------------------------------------------------


def test_latin1_comment_is_policy_error_with_line(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_bytes(b"augkit: 1\n# caf\xe9\nsample: []\n")
    err = _error(path)
    assert err.source == str(path) and err.line == 2
    assert "not UTF-8" in str(err) and "allowed: UTF-8 text" in str(err)


def test_binary_file_is_policy_error(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_bytes(bytes(range(256)) * 4)
    err = _error(path)
    assert str(err).startswith(f"{path}:") and "allowed" in str(err)


def test_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_bytes(b"\xef\xbb\xbfaugkit: 1\nseed: 4\n")
    assert load_policy(path).seed == 4
    assert load_policy(b"\xef\xbb\xbfseed: 5\n").seed == 5


# ---- limits ---------------------------------------------------------------------------------


def _nested(levels: int) -> str:
    text = "toy.tag"
    for _ in range(levels):
        text = "{compose: {transforms: [" + text + "]}}"
    return f"sample: [{text}]\n"


def test_deep_nesting_is_policy_error_not_recursion_error(toys):
    err = _error(_nested(200))
    assert err.line == 1 and f"at most {MAX_DEPTH}" in str(err) and "max_depth" in str(err)
    assert len(load_policy(_nested(20)).sample) == 1
    assert "max_depth" in str(_error(_nested(40)))
    assert load_policy(_nested(40), max_depth=200).sample
    # A limit raised past what the parser can follow is still a PolicyError.
    assert "nesting" in str(_error(_nested(1000), max_depth=10**6, max_bytes=10**7))


def test_file_size_is_bounded(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("sample:\n" + "  - toy.tag\n" * (MAX_BYTES // 12 + 1))
    err = _error(path)
    assert f"at most {MAX_BYTES} bytes" in str(err) and "max_bytes" in str(err)
    assert "at most" in str(_error("# x\n" * (MAX_BYTES // 4 + 1)))


def test_step_count_is_bounded(toys):
    text = "sample:\n" + "  - toy.tag\n" * (MAX_STEPS + 1)
    err = _error(text)
    assert f"at most {MAX_STEPS}" in str(err) and "max_steps" in str(err)
    assert err.line == MAX_STEPS + 2
    assert len(load_policy(text, max_steps=MAX_STEPS + 1).sample) == MAX_STEPS + 1


def test_long_values_are_cut_in_messages(toys):
    for text in (f"seed: '{'x' * 100_000}'\n",
                 f"sample:\n  - toy.add_noise: {{scale: '{'x' * 100_000}'}}\n"):
        message = str(_error(text))
        assert len(message) < 4 * MAX_ECHO + 600, len(message)
        assert "more characters" in message and "allowed" in message


def test_seed_is_bounded_to_the_bits_streams_use():
    assert load_policy(f"seed: {MAX_SEED}\n").seed == 2**64 - 1
    err = _error(f"seed: {MAX_SEED + 1}\n")
    assert err.path == "seed" and "2**64 - 1" in str(err)


def test_views_is_bounded():
    assert load_policy(f"views: {MAX_VIEWS}\n").views == MAX_VIEWS
    err = _error(f"views: {MAX_VIEWS + 1}\n")
    assert err.path == "views" and f"[1, {MAX_VIEWS}]" in str(err)


# ---- paths ----------------------------------------------------------------------------------


def test_folder_is_an_error_about_the_path(tmp_path):
    err = _error(str(tmp_path))
    assert err.source == str(tmp_path) and "folder" in str(err)
    assert "a mapping" not in str(err)


def test_missing_file_without_suffix_is_an_error_about_the_path(tmp_path):
    missing = str(tmp_path / "policy")
    err = _error(missing)
    assert err.source == missing and "no such file" in str(err)


def test_one_line_yaml_text_is_still_text():
    assert load_policy("seed: 3").seed == 3
    assert load_policy("{seed: 4}").seed == 4


# ---- stages that validate but could never run -----------------------------------------------

NEVER_RUN = [
    ("sample:\n  - views: {transforms: [edge_dropout]}\n  - node_dropout\n",
     "sample[1].node_dropout", 3, "after views"),
    ("sample:\n  - compose:\n      transforms:\n        - views: {transforms: [edge_dropout]}\n"
     "        - node_dropout\n", "sample[0].compose.transforms[1].node_dropout", 5,
     "after views"),
    ("sample:\n  - edge_dropout\n  - gaussian_blur\n", "sample[1].gaussian_blur", 3,
     "one data kind"),
    ("sample:\n  - one_of: {transforms: [edge_dropout, random_erasing]}\n",
     "sample[0].one_of.transforms[1].random_erasing", 2, "one data kind"),
    ("batch:\n  - one_of: {transforms: [gaussian_blur, mixup]}\n",
     "batch[0].one_of.transforms[1].mixup", 2, "separate containers"),
    ("batch:\n  - mixup\n  - random_erasing\n", "batch[1].random_erasing", 3,
     "no longer an item"),
]


@pytest.mark.parametrize("text,path,line,words", NEVER_RUN)
def test_steps_that_could_never_run_fail_validation(text, path, line, words):
    err = _error(text)
    assert (err.path, err.line) == (path, line), str(err)
    assert words in str(err) and "allowed" in str(err)


def test_runnable_stages_still_load():
    load_policy("sample:\n  - edge_dropout\n  - views: {transforms: [node_dropout]}\n"
                "batch:\n  - mixup\n  - cutmix\n")
    load_policy("sample:\n  - gaussian_blur\n  - diffusion_noise\nbatch:\n  - gaussian_blur\n")
    load_policy("batch:\n  - gaussian_blur\n  - mixup\n")


# ---- messages -------------------------------------------------------------------------------


def test_parameter_at_the_column_of_its_name_names_the_keys():
    err = _error("sample:\n  - edge_dropout:\n    p: 0.2\n")
    assert "a mapping with 2 keys (edge_dropout, p)" in str(err)
    assert "indent it under it" in str(err) and "allowed" in str(err)


def test_python_tag_on_a_sequence_says_what_is_allowed():
    err = _error("sample: !!python/tuple [1]\n")
    assert str(err) == ("<string>:1: sample: the tag !!python/tuple is not allowed; "
                        "allowed: plain lists")


def test_cross_parameter_error_path_is_not_doubled():
    err = _error("sample:\n  - one_of:\n      transforms: [edge_dropout]\n"
                 "      weights: [1, 2]\n")
    assert str(err) == ("<string>:4: sample[0].one_of.weights: got 2 weights for 1 transforms; "
                        "allowed: one weight per transform")


def test_value_is_echoed_as_written():
    err = _error("sample:\n  - diffusion_noise: {t: 2000}\n")
    assert str(err) == ("<string>:2: sample[0].diffusion_noise.t: got 2000; allowed: "
                        "timesteps in [0, T - 1] = [0, 999]")
