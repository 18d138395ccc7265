import pytest
from hypothesis import given
from hypothesis import strategies as st
from sgd.tenancy import Tenant, parse_upload_key

identifiers = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)


@given(org=identifiers, project=identifiers, upload_id=identifiers,
       filename=st.text(min_size=1, max_size=80).filter(lambda name: "\x00" not in name))
def test_upload_keys_round_trip(org: str, project: str, upload_id: str, filename: str) -> None:
    tenant = Tenant(org, project)
    parsed = parse_upload_key(tenant.upload_key(upload_id, filename))
    assert (parsed.tenant, parsed.upload_id, parsed.filename) == (tenant, upload_id, filename)


@pytest.mark.parametrize(("key", "problem"), [
    ("assets/acme/p/u/f.pdf", "not under uploads/"),
    ("uploads/acme/p/f.pdf", "must look like"),
    ("uploads/acme//u/f.pdf", "must look like"),
    ("uploads/ac me/p/u/f.pdf", "org must match"),
    ("uploads/acme/p/u!/f.pdf", "upload id must match"),
])
def test_malformed_upload_keys_say_what_is_wrong(key: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_upload_key(key)


def test_every_key_is_scoped_by_org_and_project() -> None:
    tenant = Tenant("acme", "spring")
    assert tenant.partition_key == "org#acme#project#spring"
    assert tenant.upload_key("up-1", "f.pdf") == "uploads/acme/spring/up-1/f.pdf"
    assert tenant.quarantine_key("u1", "f.pdf") == "quarantine/acme/spring/u1/f.pdf"
    assert tenant.asset_key("u1", "f.pdf") == "assets/acme/spring/u1/f.pdf"
    assert tenant.evidence_key("e1") == "assets/acme/spring/evidence/e1.json"
    assert tenant.render_key("r1", 2, "png") == "org/acme/projects/spring/renders/r1/2.png"
    assert tenant.critique_key("c1", "a1", "jpg") == "org/acme/projects/spring/critiques/c1/a1.jpg"
    assert tenant.vector_payload() == {"org": "acme", "project": "spring"}
    assert Tenant("acme", "spring") != Tenant("globex", "spring")


@pytest.mark.parametrize(("org", "project"), [("", "p"), ("a" * 65, "p"), ("acme", "../etc"), ("acme", "p#1")])
def test_tenant_rejects_unsafe_identifiers(org: str, project: str) -> None:
    with pytest.raises(ValueError, match="must match"):
        Tenant(org, project)
