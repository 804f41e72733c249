"""The workspace's step forms: for each step of services/steps, the fields a person fills
in (labelled, with the listed grounds to choose from), which of them the commission page
offers to whom and when, and how a posted form becomes the step's request body, the same
body the REST API validates."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from appraisal.api.policy import COMMISSION_PATH, POLICY
from appraisal.domain.commission import TERMINATION_GROUNDS
from appraisal.domain.criminal import (
    PERSON_ROLES,
    REAPPRAISAL_APPLICATION_GROUNDS,
    SUPPLEMENTARY_APPLICATION_GROUNDS,
)
from appraisal.domain.lifecycle import COMMISSION_TRANSITIONS, TESTIMONY_TRANSITIONS, stages_for
from appraisal.domain.objection import RESOLUTIONS
from appraisal.domain.recusal import RECUSAL_GROUNDS
from appraisal.domain.report_changes import CORRECTION_KINDS, SUPPLEMENTARY_GROUNDS
from appraisal.domain.roles import ENTRUSTING_ROLES, Actor, Role
from appraisal.domain.testimony import DECLINE_GROUNDS as TESTIMONY_DECLINE_GROUNDS
from appraisal.domain.testimony import RESULTS, AppraiserState
from appraisal.schemas.commission import CommissionPublic
from appraisal.services import steps
from appraisal.services.steps import Step

CHINA_OFFSET = "+08:00"
MATERIAL_ROWS = 3
"""Blank rows a materials field offers (rows left blank are not sent)."""


@dataclass(frozen=True)
class Field:
    """One input. `kind`: text, textarea, date, datetime (local time in China), number,
    select (`options`), appraisers (checkboxes) or appraiser (one) from the page's
    choices, materials (name and SHA-256 rows, hashed in the browser), results (one
    `options` select per appraiser a testimony summoned), persons (rows of a role from
    `options` and a name), fee_items (an amount per matter of the commission), payer (the
    entrusting organ or one of the commission's parties), money (yuan), hidden (the item's
    own value, e.g. the party's request a step takes in)."""

    name: str
    label: str
    kind: str = "text"
    options: Mapping[str, str] = field(default_factory=dict)
    required: bool = True
    value: str = ""


@dataclass(frozen=True)
class Form:
    step: Step
    title: str
    button: str
    fields: tuple[Field, ...] = ()


def _grounds(table: Mapping[str, str]) -> dict[str, str]:
    return {code: f"{code} · {text}" for code, text in table.items()}


REASON = Field("reason", "书面理由 Written reasons", "textarea")
REPORT_SECTIONS_BEFORE = (
    Field("examination_period", "鉴定日期 Examination dates", required=False),
    Field("place", "鉴定地点 Place of examination", required=False),
    Field("present", "在场人员 Present", required=False),
    Field("examinee", "被鉴定人 Examinee", required=False),
    Field("case_summary", "二、基本案情 The case", "textarea", required=False),
    Field("materials_summary", "三、资料摘要 Summary of the materials", "textarea", required=False),
)
"""The sections of the 2016 format (司法鉴定意见书) an appraiser writes before the examination."""
REPORT_BODY = (
    Field("content", "四、鉴定过程 Examination", "textarea"),
    Field("analysis", "五、分析说明 Analysis", "textarea", required=False),
    Field("opinion", "六、鉴定意见 Opinion", "textarea"),
    Field("attachments", "七、附件 Attachments", "materials", required=False),
)
FORMS: dict[str, Form] = {
    f.step.path: f
    for f in (
        # Acceptance and signing have forms of their own in commission.html (two buttons;
        # the signature made in the browser), over these fields.
        Form(
            steps.ACCEPTANCE,
            "受理决定 Decide acceptance",
            "受理 Accept",
            (
                Field("decision", "决定 Decision"),
                Field("appraiser_ids", "指派鉴定人 Appraisers", "appraisers"),
                Field("ground", "不予受理理由 Ground of refusal", "select", required=False),
                Field("reason", "书面说明 Written reasons", "textarea", required=False),
            ),
        ),
        Form(
            steps.SIGNATURE,
            "签署鉴定意见 Sign the report",
            "签名 Sign",
            (
                Field("kind", "签署方式 How"),
                Field("statement", "不同意见 Dissent", "textarea", required=False),
                Field("signature", "签名 Signature"),
            ),
        ),
        Form(
            steps.MATERIAL_REQUEST,
            "补充材料 Ask for materials",
            "通知补充 Ask the court",
            (
                Field("description", "需要什么 What is needed", "textarea"),
                Field(
                    "kind",
                    "类型 Kind",
                    "select",
                    {"materials": "补充材料 Materials", "witness": "等待证人 An absent witness (PROC-15)"},
                ),
                Field("requested_on", "通知日期 Asked on (default today)", "date", required=False),
            ),
        ),
        Form(
            steps.MATERIALS,
            "提交补充材料 Supply the materials",
            "提交 Supply",
            (
                Field("party_request_id", "", "hidden", required=False),
                Field("materials", "材料 Materials", "materials", required=False),
                Field("received_on", "送达日期 Received on (default today)", "date", required=False),
            ),
        ),
        Form(
            steps.EXTENSION,
            "延长鉴定时限 Extend the examination",
            "批准延长 Approve the extension",
            (Field("working_days", "延长工作日 Working days (at most 30)", "number"), REASON),
        ),
        Form(
            steps.REPORT,
            "提交鉴定意见 Submit the report",
            "提交 Submit",
            (*REPORT_SECTIONS_BEFORE, *REPORT_BODY),
        ),
        Form(steps.ISSUE, "签发鉴定意见书 Issue the report", "签发 Issue to the court"),
        Form(
            steps.OBJECTION,
            "转交异议 Forward an objection",
            "转交鉴定人 Forward to the appraisers",
            (
                Field("party_request_id", "", "hidden", required=False),
                Field("party", "提出异议的当事人 Objecting party"),
                Field("content", "异议内容 Objection", "textarea"),
                Field("reply_by", "书面答复期限 Answer in writing by", "date"),
            ),
        ),
        Form(
            steps.OBJECTION_REPLY,
            "答复异议 Answer the objection",
            "提交答复 Send the answer",
            (Field("content", "书面答复 Written answer", "textarea"),),
        ),
        Form(
            steps.OBJECTION_RESOLUTION,
            "异议处理结果 Resolve the objection",
            "记录 Record",
            (
                Field("resolution", "结果 Resolution", "select", RESOLUTIONS),
                Field("note", "说明 Note", "textarea", required=False),
            ),
        ),
        Form(
            steps.SUMMONS,
            "通知出庭作证 Summon to testify",
            "发出通知 Summon",
            (
                Field("hearing_at", "开庭时间 Hearing (China time)", "datetime"),
                Field("place", "地点 Place"),
                Field("appraiser_ids", "出庭鉴定人 Appraisers", "appraisers"),
                Field("requirements", "要求 Requirements", "textarea", required=False),
                Field("reason", "说明 Reason", "textarea", required=False),
            ),
        ),
        Form(
            steps.SUPPLEMENTARY,
            "补充鉴定 Supplementary appraisal",
            "委托补充鉴定 Ask for it",
            (
                Field("ground", "理由 Ground", "select", _grounds(SUPPLEMENTARY_GROUNDS)),
                REASON,
                Field("materials", "新材料 New materials", "materials", required=False),
            ),
        ),
        Form(
            steps.CORRECTION,
            "补正鉴定意见书 Correct the report",
            "提交补正 Submit the correction",
            (
                Field("defect_kind", "补正事项 Defect", "select", _grounds(CORRECTION_KINDS)),
                Field("description", "补正说明 What is corrected", "textarea"),
                *REPORT_SECTIONS_BEFORE,
                *(
                    Field("opinion", "六、鉴定意见（不得改变）Opinion (unchanged)", "textarea")
                    if f.name == "opinion"
                    else f
                    for f in REPORT_BODY
                ),
            ),
        ),
        Form(
            steps.RECUSAL,
            "申请回避 Recusal",
            "提出 Declare",
            (
                Field("appraiser_id", "回避的鉴定人 Appraiser", "appraiser"),
                Field("ground", "回避事由 Ground", "select", _grounds(RECUSAL_GROUNDS)),
                REASON,
            ),
        ),
        Form(
            steps.RECUSAL_DECISION,
            "回避决定 Decide the recusal",
            "决定 Decide",
            (
                Field(
                    "granted",
                    "决定 Decision",
                    "select",
                    {"true": "准予回避 Grant", "false": "不予回避 Refuse"},
                ),
                Field("replacement_id", "替换鉴定人 Replacement (when granted)", "appraiser", required=False),
                REASON,
            ),
        ),
        Form(
            steps.TERMINATION,
            "终止鉴定 Terminate",
            "终止 Terminate",
            (Field("ground", "终止事由 Ground", "select", _grounds(TERMINATION_GROUNDS)), REASON),
        ),
        Form(
            steps.CONFIRMATION,
            "答复出庭通知 Answer the summons",
            "答复 Answer",
            (
                Field(
                    "response",
                    "答复 Response",
                    "select",
                    {
                        "confirm": "确认出庭 I will appear",
                        "remote": "申请远程作证 I ask to testify remotely",
                        "decline": "申请不出庭 I ask not to appear (TST-8)",
                    },
                ),
                Field(
                    "ground",
                    "不出庭理由（申请不出庭时）Ground (when asking not to appear)",
                    "select",
                    {"": "—", **_grounds(TESTIMONY_DECLINE_GROUNDS)},
                    required=False,
                ),
                Field("reason", "说明 Reason", "textarea", required=False),
            ),
        ),
        Form(
            steps.RULING,
            "对申请作出决定 Rule on an appraiser's request",
            "决定 Rule",
            (
                Field("appraiser_id", "鉴定人 Appraiser", "appraiser"),
                Field(
                    "allow",
                    "决定 Ruling",
                    "select",
                    {"true": "准许 Allow", "false": "不准许，须出庭 Refuse: appear in person"},
                ),
                Field("note", "说明 Note", "textarea", required=False),
            ),
        ),
        Form(
            steps.OUTCOME,
            "记录出庭结果 Record the hearing's outcome",
            "记录 Record",
            (
                Field("results", "每位鉴定人 Each appraiser", "results", RESULTS),
                Field("note", "说明 Note", "textarea", required=False),
            ),
        ),
        Form(
            steps.REFUND_RULING,
            "退费裁定 Refund ruling (TST-4)",
            "裁定 Rule",
            (
                Field(
                    "ordered",
                    "裁定 Ruling",
                    "select",
                    {"true": "退还鉴定费 Order a refund", "false": "不予退还 No refund"},
                ),
                Field("note", "说明 Note", "textarea", required=False),
            ),
        ),
        # Signed in the browser with the appraiser's own key (commission.html, steps.js).
        Form(
            steps.INTERFERENCE,
            "记录干预鉴定 Record an attempt to interfere (IND-1)",
            "签名并报送 Sign and send to the bureau",
            (
                Field("who", "干预人 Who (name, position, organisation)"),
                Field("occurred_at", "时间 When (China time)", "datetime"),
                Field("what", "干预内容 What they did or asked", "textarea"),
                Field("hidden_from_institution", "对本机构保密 Keep it from the institution", required=False),
                Field("signature", "签名 Signature"),
            ),
        ),
        Form(
            steps.INTERFERENCE_REVIEW,
            "处理干预记录 Review the interference report",
            "记录 Record",
            (Field("note", "处理情况 What the bureau did", "textarea"),),
        ),
        Form(
            steps.OPINION_NOTICE,
            "告知鉴定意见 Tell the suspect and the victim of the opinion (PROC-36)",
            "记录告知 Record it",
            (
                Field("persons", "告知对象 Who was told", "persons", PERSON_ROLES),
                Field("notified_on", "告知日期 Told on (default today)", "date", required=False),
                Field("note", "说明 Note", "textarea", required=False),
            ),
        ),
        Form(
            steps.APPLICATION,
            "补充鉴定或重新鉴定申请 An application for a supplementary or re-appraisal",
            "登记申请 Record the application",
            (
                Field("applicant_role", "申请人身份 Applicant", "select", PERSON_ROLES),
                Field("applicant_name", "申请人姓名 Applicant's name"),
                Field(
                    "kind",
                    "申请事项 Applies for",
                    "select",
                    {
                        "reappraisal": "重新鉴定 A re-appraisal",
                        "supplementary": "补充鉴定 A supplementary appraisal",
                    },
                ),
                REASON,
                Field("received_on", "收到日期 Received on (default today)", "date", required=False),
            ),
        ),
        Form(
            steps.APPLICATION_DECISION,
            "对申请作出决定 Decide the application (PROC-36)",
            "决定 Decide",
            (
                Field(
                    "granted",
                    "决定 Decision",
                    "select",
                    {
                        "false": "不准予 Refuse (the applicant is told in writing within 3 days)",
                        "true": "准予 Grant",
                    },
                ),
                Field(
                    "ground",
                    "准予的理由（准予时）Ground (when granted)",
                    "select",
                    {
                        "": "—",
                        **_grounds(SUPPLEMENTARY_APPLICATION_GROUNDS),
                        **_grounds(REAPPRAISAL_APPLICATION_GROUNDS),
                    },
                    required=False,
                ),
                Field(
                    "in_custody",
                    "犯罪嫌疑人是否在押 Is the suspect in custody (CAL-4)",
                    "select",
                    {"false": "未羁押 No", "true": "在押 In custody: a holiday does not extend the 3 days"},
                ),
                REASON,
            ),
        ),
        Form(
            steps.APPLICANT_NOTICE,
            "书面通知申请人 Tell the applicant in writing",
            "记录通知 Record the notice",
            (
                Field("notified_on", "通知日期 Told on (default today)", "date", required=False),
                Field("note", "说明 Note", "textarea", required=False),
            ),
        ),
        Form(steps.WITHDRAWAL, "撤回委托 Withdraw the commission", "撤回 Withdraw", (REASON,)),
        # ---- the parties (PTY-1) ----
        Form(
            steps.PARTY_REQUEST,
            "向委托机关提交 Ask the entrusting organ to pass on",
            "提交 Submit",
            (
                Field(
                    "kind",
                    "事项 What",
                    "select",
                    {"materials": "补充材料 Materials", "objection": "异议 An objection"},
                ),
                Field("content", "内容 Content (the objection, or a note)", "textarea", required=False),
                Field("materials", "材料 Materials", "materials", required=False),
            ),
        ),
        Form(
            steps.PARTY_REQUEST_DECLINE,
            "不予转交当事人请求 Decline the party's request",
            "不予转交 Decline",
            (REASON,),
        ),
        Form(
            steps.REPORT_RELEASE,
            "向当事人公开鉴定意见书 Release the report to the parties",
            "公开 Release",
            (Field("note", "说明 Note", "textarea", required=False),),
        ),
        # ---- the fee (鉴定费: FEE-1, CRT-1, FEE-2) ----
        Form(
            steps.FEE_QUOTE,
            "鉴定费报价 Quote the fee (within the charging standard, FEE-1)",
            "报价 Quote",
            (
                Field("items", "每项事项的费用（元）Each matter's fee (yuan)", "fee_items"),
                Field("payer", "付费方 Who pays", "payer"),
                Field("note", "说明 Note", "textarea", required=False),
            ),
        ),
        Form(
            steps.FEE_ANSWER,
            "确认鉴定费 Answer the fee quote",
            "确认 Answer",
            (
                Field(
                    "accepted", "决定 Decision", "select", {"true": "接受 Accept", "false": "不接受 Decline"}
                ),
                Field("reason", "理由（不接受时）Reason (when declined)", "textarea", required=False),
            ),
        ),
        Form(
            steps.FEE_PAYMENT,
            "记录缴费 Record a payment",
            "记录 Record",
            (
                Field("amount", "金额（元）Amount (yuan)", "money"),
                Field("reference", "缴费凭证号 External reference (bank transfer, receipt)"),
                Field("paid_on", "缴费日期 Paid on (default today)", "date", required=False),
                Field("note", "说明 Note", "textarea", required=False),
            ),
        ),
        Form(
            steps.FEE_REFUND,
            "记录退费 Record the refund paid back (FEE-2)",
            "记录 Record",
            (
                Field("amount", "退还金额（元）Amount paid back (yuan)", "money"),
                Field("reference", "退费凭证号 External reference"),
                Field("refunded_on", "退费日期 Refunded on (default today)", "date", required=False),
                Field(
                    "retained_reason",
                    "未全额退还的理由（已完成工作的费用）Why not all (the cost of the work done)",
                    "textarea",
                    required=False,
                ),
            ),
        ),
        Form(
            steps.CLOSURE,
            "结案 Close the commission",
            "结案 Close",
            (Field("reason", "说明 Note", "textarea", required=False),),
        ),
    )
}
"""The form of every step of services/steps."""

MATERIALS_ONLY = (Field("materials", "", "materials"),)

APPRAISER_OWN = frozenset(
    {"report", "signatures", "corrections", "objections/{objection_id}/reply", "interference"}
)

CRIMINAL_STEPS = frozenset(
    {"notify_opinion", "receive_application", "decide_application", "notify_applicant"}
)
"""PROC-36's steps: offered only to the organ that entrusted the commission."""
"""Steps an appraiser takes only on a commission they are assigned to."""


@dataclass(frozen=True)
class Offer:
    """A form the page shows: `action` is where it posts, `key` the step's path with the
    item filled in (what a refusal names), `item` the objection or recusal it answers."""

    step: Step
    form: Form
    action: str
    key: str
    item: Mapping[str, Any] = field(default_factory=dict)


def roles_of(step: Step) -> frozenset[Role]:
    """Who may take the step: the API's policy row for it."""
    return POLICY[("POST", f"{COMMISSION_PATH}/{step.path}")].roles


def offers(principal: Actor, commission: CommissionPublic) -> list[Offer]:
    """The steps the viewer's role may take on the commission in its stage (the workflow's
    validator still has the last word: a step refused there is shown refused)."""
    found: list[Offer] = []
    if principal.role in ENTRUSTING_ROLES and (principal.role, principal.organisation_id) != (
        commission.entrusting_role,
        commission.court_id,
    ):
        return found  # a later organ reads a commission the case brought it (ENT-4); it takes no step
    for step in steps.STEPS.values():
        if principal.role not in roles_of(step):
            continue
        if not step.of_testimony and commission.stage not in stages_for(COMMISSION_TRANSITIONS, step.name):
            continue
        if (
            principal.role == Role.APPRAISER
            and step.path in APPRAISER_OWN
            and principal.organisation_id not in commission.appraiser_ids
        ):
            continue
        for item in _items(step, commission, principal):
            item_id = str(item.get("id") or item.get("testimony_id") or "")
            if item.get("prefill"):  # a party's request the step takes in: its path names no item
                item_id = ""
            key = step.path
            for placeholder in (
                "{objection_id}",
                "{recusal_id}",
                "{testimony_id}",
                "{report_id}",
                "{application_id}",
                "{request_id}",
            ):
                key = key.replace(placeholder, item_id)
            found.append(Offer(step, FORMS[step.path], f"/ui/commissions/{commission.id}/{key}", key, item))
    return found


def _items(step: Step, commission: CommissionPublic, principal: Actor) -> list[Mapping[str, Any]]:
    """One offer per open objection or pending recusal the step answers; one for any other
    step, unless there is nothing to take it on."""
    if step is steps.OBJECTION_REPLY:
        return [o.model_dump() for o in commission.objections if o.status == "awaiting_reply"]
    if step is steps.OBJECTION_RESOLUTION:
        return [o.model_dump() for o in commission.objections if o.status == "answered"]
    if step is steps.RECUSAL_DECISION:
        return [r.model_dump() for r in commission.recusals if r.status == "pending"]
    if step is steps.INTERFERENCE_REVIEW:
        return [r.model_dump() for r in commission.interference if r.status == "reported"]
    if step is steps.APPLICATION_DECISION:
        return [a.model_dump() for a in commission.applications if a.status == "pending"]
    if step is steps.APPLICANT_NOTICE:
        return [a.model_dump() for a in commission.applications if a.status == "refused"]
    if step.of_testimony:
        return [t for t in commission.testimonies if _may_answer(step, t, principal)]
    if step is steps.PARTY_REQUEST_DECLINE:
        return [r.model_dump() for r in commission.party_requests if r.status == "pending"]
    if step in (steps.MATERIALS, steps.OBJECTION):
        kind = "materials" if step is steps.MATERIALS else "objection"
        named = {p.party_id: p.name for p in commission.parties}
        offered = [
            {**r.model_dump(), "prefill": True, "party_request_id": r.id, "party": named.get(r.party_id, "")}
            for r in commission.party_requests
            if r.status == "pending" and r.kind == kind
        ]
        return [{}, *offered]
    if step is steps.REPORT_RELEASE:
        report = commission.report
        return [{}] if report and report.issued_at and commission.report_released != report.version else []
    fee = commission.fee
    if step is steps.FEE_QUOTE:
        return [] if fee is not None and fee.status == "accepted" else [{}]
    if step is steps.FEE_ANSWER:
        return [{}] if fee is not None and fee.status == "quoted" and fee.payer_kind == "entruster" else []
    if step is steps.FEE_PAYMENT:
        return [{}] if fee is not None and fee.status == "accepted" and fee.paid < fee.total else []
    if step is steps.FEE_REFUND:
        return [{}] if fee is not None and fee.refund is not None and fee.refund.status == "ordered" else []
    if step is steps.SIGNATURE:
        report = commission.report
        signed = {s.appraiser_id for s in report.signatures} if report else set()
        return [{}] if report and principal.organisation_id not in signed else []
    return [{}]


def _may_answer(step: Step, testimony: Mapping[str, Any], principal: Actor) -> bool:
    """A testimony in a stage that takes the step; a summons answered only by an appraiser
    it names who has not answered yet."""
    if testimony.get("stage") not in stages_for(TESTIMONY_TRANSITIONS, step.name):
        return False
    if step is steps.CONFIRMATION:
        mine = [
            a for a in testimony.get("appraisers", []) if a.get("appraiser_id") == principal.organisation_id
        ]
        return bool(mine) and mine[0].get("state") == AppraiserState.SUMMONED
    return True


def body_fields(fields: tuple[Field, ...], posted: Mapping[str, list[str]]) -> dict[str, Any]:
    """A posted form as the step's request body: blank inputs left out (the body's defaults
    and its "field required" apply), checkboxes as lists, material rows as objects, a local
    hearing time in China time. Browsers post line breaks as CRLF; the body takes LF."""

    def first(name: str) -> str:
        return (posted.get(name) or [""])[0].replace("\r\n", "\n")

    body: dict[str, Any] = {}
    for spec in fields:
        if spec.kind == "results":
            prefix = f"{spec.name}."
            body[spec.name] = {
                k[len(prefix) :]: v[0] for k, v in posted.items() if k.startswith(prefix) and v
            }
        elif spec.kind == "appraisers":
            body[spec.name] = [v for v in posted.get(spec.name, []) if v]
        elif spec.kind == "persons":
            roles, names = posted.get(f"{spec.name}.role", []), posted.get(f"{spec.name}.name", [])
            body[spec.name] = [
                {"role": r, "name": n.strip()} for r, n in zip(roles, names, strict=False) if n.strip()
            ]
        elif spec.kind == "materials":
            names, hashes = posted.get(f"{spec.name}.name", []), posted.get(f"{spec.name}.sha256", [])
            body[spec.name] = [
                {"name": n.strip(), "sha256": h.strip().lower()}
                for n, h in zip(names, hashes, strict=False)
                if n.strip() or h.strip()
            ]
        elif spec.kind == "fee_items":
            matters, amounts = posted.get(f"{spec.name}.matter", []), posted.get(f"{spec.name}.amount", [])
            body[spec.name] = [
                {"matter": m.strip(), "amount": a.strip()}
                for m, a in zip(matters, amounts, strict=False)
                if m.strip() and a.strip()
            ]
        elif spec.kind == "payer":
            payer = first(spec.name)
            if payer.startswith("party:"):
                body["payer"], body["payer_party_id"] = "party", payer.removeprefix("party:")
            elif payer:
                body["payer"] = payer
        elif value := first(spec.name):
            body[spec.name] = value + CHINA_OFFSET if spec.kind == "datetime" and len(value) <= 16 else value
    return body


def entrustment_fields(posted: Mapping[str, list[str]]) -> dict[str, Any]:
    """The court's entrustment form as the body of POST /v1/commissions: matters one per line."""

    def first(name: str) -> str:
        return (posted.get(name) or [""])[0].replace("\r\n", "\n").strip()

    body: dict[str, Any] = {
        "court_reference": first("court_reference"),
        "case_number": first("case_number"),
        "category": first("category"),
        "matters": [line.strip() for line in first("matters").split("\n") if line.strip()],
        "selection": selection_fields(posted),
        "materials": body_fields(MATERIALS_ONLY, posted)["materials"],
    }
    for optional in ("received_on", "court_deadline_working_days"):
        if first(optional):
            body[optional] = first(optional)
    return body


def selection_fields(posted: Mapping[str, list[str]]) -> dict[str, Any]:
    """How the institution is chosen: the institution only for a negotiated or designated
    choice, the excluded ones only for a random draw."""
    mode = (posted.get("mode") or [""])[0]
    selection: dict[str, Any] = {"mode": mode}
    if mode == "random":
        selection["excluded_institution_ids"] = [v for v in posted.get("excluded_institution_ids", []) if v]
    elif institution_id := (posted.get("institution_id") or [""])[0]:
        selection["institution_id"] = institution_id
    return selection


def relinking_fields(posted: Mapping[str, list[str]]) -> dict[str, Any]:
    """A re-entrustment's or a re-appraisal's form as its body: the new commission's court
    reference, how its institution is chosen, the reasons (and a re-appraisal's ground)."""
    body: dict[str, Any] = {"selection": selection_fields(posted)}
    for name in ("court_reference", "reason", "ground", "same_institution_reason"):
        if value := (posted.get(name) or [""])[0].replace("\r\n", "\n").strip():
            body[name] = value
    return body


RELINKING = {"reentrustment": "reassign", "reappraisal": "order_reappraisal"}
"""The court's steps that end or supersede this commission and start a linked one: the
form's path → the workflow's step (whose stages offer the form)."""


def relinking_offers(principal: Actor, commission: CommissionPublic) -> list[str]:
    """Re-entrustment is the court's remedy (CRT-5); every entrusting organ orders a
    re-appraisal of its own commission (PROC-31, PROC-36)."""
    if principal.role not in ENTRUSTING_ROLES or principal.organisation_id != commission.court_id:
        return []
    return [
        path
        for path, name in RELINKING.items()
        if commission.stage in stages_for(COMMISSION_TRANSITIONS, name)
        and (path != "reentrustment" or principal.role == Role.COURT)
    ]


TASK_FORMS = {
    "close_commission": "close",
    "confirm_testimony": "confirm",
    "rule_on_testimony_request": "rule_on_request",
    "record_testimony_outcome": "record_outcome",
    "rule_on_testimony_refund": "rule_on_refund",
    "overdue_remedy": "reassign",
    "registry_exit_remedy": "reassign",
    "review_party_request": "decline_party_request",
}
"""Inbox tasks whose kind is not the name of the step that takes them (the others share it)."""


def task_form(kind: str) -> str:
    """The anchor of the form that takes an inbox task on its commission's page (`do-<step>`);
    a task no form takes (an escalation to watch) opens the page at its clocks."""
    step = TASK_FORMS.get(kind, kind)
    offered = {s.name for s in steps.STEPS.values()} | set(RELINKING.values())
    return f"do-{step}" if step in offered else "clocks"


def entered(posted: Mapping[str, list[str]]) -> dict[str, str]:
    """What a refused form had in it, to show again (the first value of each input)."""
    return {name: values[0].replace("\r\n", "\n") for name, values in posted.items() if name != "csrftoken"}
