"""The landing area is a boundary: what a contract accepts is read, the rest is listed with why."""

from pathlib import Path

from assets.common.landing import inventory, months_delivered


def _touch(root: Path, relative: str, text: str = "x\n") -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_every_file_is_classified_and_strays_are_refused_with_their_reason(tmp_path: Path) -> None:
    _touch(tmp_path, "customs/declarations_2024-11.csv")
    _touch(tmp_path, "customs/declarations_2024-12 copy.csv", "secret,content\n")
    _touch(tmp_path, "customs/declarations_2024-13.csv")
    _touch(tmp_path, "tax/company_registry.csv")
    _touch(tmp_path, "sanctions/ofac_sdn/sdn_2024-02-20.csv")
    _touch(tmp_path, "approvals/delivery_approvals.csv")
    _touch(tmp_path, "notes.txt")
    (tmp_path / "customs" / "declarations_2024-10.csv").symlink_to("/etc/hostname")
    found = {entry.path: entry for entry in inventory(tmp_path)}
    assert found["customs/declarations_2024-11.csv"].dataset == "customs_declarations"
    assert found["customs/declarations_2024-11.csv"].month == "2024-11"
    assert found["customs/declarations_2024-11.csv"].refused is None
    assert found["tax/company_registry.csv"].dataset == "company_registry"
    assert found["sanctions/ofac_sdn/sdn_2024-02-20.csv"].refused is None
    assert found["approvals/delivery_approvals.csv"].dataset == "delivery_approvals"
    refused = {path: entry.refused for path, entry in found.items() if entry.refused}
    assert refused == {
        "customs/declarations_2024-12 copy.csv": (
            "customs/declarations_2024-12 copy.csv: name matches no contract"
        ),
        "customs/declarations_2024-13.csv": "customs/declarations_2024-13.csv: not a month",
        "customs/declarations_2024-10.csv": (
            "customs/declarations_2024-10.csv: a symbolic link, refused unread"
        ),
        "notes.txt": "notes.txt: name matches no contract",
    }
    assert months_delivered(tmp_path, "customs_declarations") == ["2024-11"]


def test_a_linked_folder_is_listed_and_not_walked_into(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    _touch(outside, "declarations_2024-11.csv")
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "customs").symlink_to(outside)
    found = inventory(landing)
    assert [(e.path, e.refused) for e in found] == [
        ("customs", "customs: a symbolic link, refused unread")
    ]


def test_a_linked_sanctions_snapshot_is_never_read(tmp_path: Path) -> None:
    from assets.sanctions.registry import landed_snapshots

    target = tmp_path / "elsewhere.csv"
    target.write_text("secret\n", encoding="utf-8")
    folder = tmp_path / "landing" / "sanctions" / "ofac_sdn"
    folder.mkdir(parents=True)
    (folder / "sdn_2024-05-03.csv").symlink_to(target)
    (folder / "sdn_2024-05-01.csv").write_text("1,X\r\n\x1a", encoding="utf-8")
    found = landed_snapshots(tmp_path / "landing")
    assert [s.version for s in found] == ["ofac_sdn@2024-05-01"]
