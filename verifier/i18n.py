"""The scan page's and badge's languages: negotiation and the message table.

Four languages, for the Guangdong–Hong Kong–Macao market: Simplified Chinese
(mainland), Traditional Chinese (Hong Kong, Macao), English, and Portuguese as
written in Macao (European orthography: *registo*, *fabrico*, *caducado*).

:func:`negotiate_language` implements proactive negotiation on
``Accept-Language`` (RFC 9110 §12.5.4: language ranges with ``q`` weights,
``q=0`` meaning "not acceptable"), with ``?lang=`` taking precedence and
``zh-Hans`` as the default. :func:`t` looks a message up and fills its
``{placeholders}``; the result is plain text, which callers escape for HTML or
XML.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Final

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "MESSAGES",
    "format_decimal",
    "has_message",
    "match_language",
    "negotiate_language",
    "t",
]

LANGUAGES: Final = ("zh-Hans", "zh-Hant", "en", "pt")
DEFAULT_LANGUAGE: Final = "zh-Hans"
# Each language's name in itself, for the language switcher.
LANGUAGE_NAMES: Final = {
    "zh-Hans": "简体中文",
    "zh-Hant": "繁體中文",
    "en": "English",
    "pt": "Português",
}

_HANT_REGIONS: Final = frozenset({"tw", "hk", "mo"})
_MAX_RANGES: Final = 32
_QVALUE: Final = re.compile(r"^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$")
_RANGE: Final = re.compile(r"^(?:\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)$")


def match_language(tag: str) -> str | None:
    """The supported language a BCP 47 tag or language range maps to, or None.

    ``zh``, ``zh-CN``, ``zh-SG``, ``zh-Hans-*`` → ``zh-Hans``; ``zh-TW``, ``zh-HK``,
    ``zh-MO``, ``zh-Hant-*``, ``yue`` → ``zh-Hant`` (a script subtag wins over a
    region); ``en-*`` → ``en``; ``pt-*`` → ``pt``. Case-insensitive; ``_`` is read
    as ``-``.
    """
    parts = tag.strip().replace("_", "-").lower().split("-")
    primary, rest = parts[0], parts[1:]
    if primary in ("zh", "yue"):
        if "hans" in rest:
            return "zh-Hans"
        if "hant" in rest or primary == "yue" or "yue" in rest:
            return "zh-Hant"
        return "zh-Hant" if any(p in _HANT_REGIONS for p in rest) else "zh-Hans"
    if primary == "en":
        return "en"
    if primary == "pt":
        return "pt"
    return None


def _covered(range_: str) -> set[str]:
    """Supported languages a range excludes when given ``q=0`` (RFC 4647 §3.3.1 plus mapping)."""
    lowered = range_.lower()
    covered = {lang for lang in LANGUAGES if lang.lower().startswith(lowered + "-")}
    mapped = match_language(range_)
    if mapped is not None:
        covered.add(mapped)
    return covered


def _parse_accept_language(header: str) -> list[tuple[str, float]]:
    """The well-formed ``(range, q)`` pairs of an Accept-Language value, in order."""
    ranges: list[tuple[str, float]] = []
    for item in header.split(",")[:_MAX_RANGES]:
        range_, *params = (p.strip() for p in item.split(";"))
        if not range_ or not _RANGE.match(range_):
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                q = float(value) if _QVALUE.match(value) else -1.0
        if q >= 0:
            ranges.append((range_, q))
    return ranges


def negotiate_language(accept_language: str | None, query: str | None) -> str:
    """The page language: ``?lang=`` if it names a supported language, else the
    best ``Accept-Language`` match (RFC 9110 §12.5.4), else ``zh-Hans``.

    Ranges are taken by descending ``q`` (ties in header order); ``*`` stands for
    the first supported language not excluded by a ``q=0`` range. Malformed
    entries are ignored; never raises.
    """
    if query:
        chosen = match_language(query)
        if chosen is not None:
            return chosen
    if not accept_language:
        return DEFAULT_LANGUAGE
    ranges = _parse_accept_language(accept_language)
    excluded: set[str] = set()
    for range_, q in ranges:
        if q == 0:
            excluded |= _covered(range_)
    ranked = sorted((r for r in ranges if r[1] > 0), key=lambda r: -r[1])
    for range_, _ in ranked:
        if range_ == "*":
            wildcard = [lang for lang in LANGUAGES if lang not in excluded]
            if wildcard:
                return wildcard[0]
            continue
        chosen = match_language(range_)
        if chosen is not None and chosen not in excluded:
            return chosen
    return DEFAULT_LANGUAGE


def format_decimal(lang: str, value: str) -> str:
    """A decimal string as readers of ``lang`` write it, keeping its digits.

    ``5900.5`` → ``5,900.5`` (Chinese, English) or ``5 900,5`` (Portuguese, with a
    no-break space). Anything that is not a finite decimal is returned unchanged.
    """
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return value
    if not number.is_finite():
        return value
    text = format(number, "f")
    sign = "-" if text.startswith("-") else ""
    whole, _, fraction = text.lstrip("-").partition(".")
    group, point = ("\u00a0", ",") if lang == "pt" else (",", ".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return sign + group.join(groups) + (point + fraction if fraction else "")


# key: (zh-Hans, zh-Hant, en, pt)
_TABLE: Final[dict[str, tuple[str, str, str, str]]] = {
    # --- page chrome --------------------------------------------------------------
    "page.title": (
        "碳标签验证",
        "碳標籤驗證",
        "Carbon label check",
        "Verificação do rótulo de carbono",
    ),
    "page.language": ("语言", "語言", "Language", "Idioma"),
    "page.footer": (
        "本页由验证服务根据签名凭证和公开日志实时生成。",
        "本頁由驗證服務根據已簽署的憑證及公開日誌即時產生。",
        "This page is generated live from the signed credential and the public log.",
        "Esta página é gerada em tempo real a partir da credencial assinada e do registo público.",
    ),
    # --- verdicts: title, one sentence, one word for the badge ----------------------
    "verdict.genuine.title": (
        "真实有效的碳标签",
        "真實有效的碳標籤",
        "Genuine carbon label",
        "Rótulo de carbono autêntico",
    ),
    "verdict.genuine.explain": (
        "此碳标签由获认可的机构签发，已记录在公开日志中，目前有效。",
        "此碳標籤由獲認可的機構簽發，已記錄於公開日誌，目前有效。",
        "Issued by an accredited body, recorded in the public log and valid today.",
        "Emitido por uma entidade acreditada, inscrito no registo público e válido hoje.",
    ),
    "verdict.genuine.short": ("真实有效", "真實有效", "Genuine", "Autêntico"),
    "verdict.revoked.title": ("标签已被撤销", "標籤已被撤銷", "Label revoked", "Rótulo revogado"),
    "verdict.revoked.explain": (
        "签发机构已撤销此碳标签，其标示的碳足迹不可再作依据。",
        "簽發機構已撤銷此碳標籤，其標示的碳足跡不可再作依據。",
        "The issuer has revoked this carbon label; its footprint can no longer be relied on.",
        "A entidade emissora revogou este rótulo de carbono; a pegada indicada já não é fiável.",
    ),
    "verdict.revoked.short": ("已撤销", "已撤銷", "Revoked", "Revogado"),
    "verdict.suspended.title": ("标签已暂停", "標籤已暫停", "Label suspended", "Rótulo suspenso"),
    "verdict.suspended.explain": (
        "签发机构已暂停此碳标签，恢复之前请勿依赖其信息。",
        "簽發機構已暫停此碳標籤，恢復之前請勿依賴其資料。",
        "The issuer has suspended this carbon label; do not rely on it until it is reinstated.",
        "A entidade emissora suspendeu este rótulo de carbono; não confie nele até ser reativado.",
    ),
    "verdict.suspended.short": ("已暂停", "已暫停", "Suspended", "Suspenso"),
    "verdict.expired.title": ("标签已过期", "標籤已過期", "Label expired", "Rótulo caducado"),
    "verdict.expired.explain": (
        "此碳标签已超过有效期，其数据可能已不反映当前产品。",
        "此碳標籤已超過有效期，其數據可能已不反映現時的產品。",
        "This carbon label is past its validity period; its data may no longer reflect "
        "the product.",
        "Este rótulo de carbono ultrapassou o prazo de validade; os dados podem já não "
        "corresponder ao produto.",
    ),
    "verdict.expired.short": ("已过期", "已過期", "Expired", "Caducado"),
    "verdict.not-found.title": (
        "未签发：可能是假冒标签",
        "未簽發：可能是假冒標籤",
        "Not issued: possibly fake",
        "Não emitido: possivelmente falso",
    ),
    "verdict.not-found.explain": (
        "登记系统中没有这个碳标签，它可能是伪造的。",
        "登記系統中沒有這個碳標籤，它可能是偽造的。",
        "No such carbon label was ever issued; it may be counterfeit.",
        "Este rótulo de carbono nunca foi emitido; pode ser contrafeito.",
    ),
    "verdict.not-found.short": ("未签发", "未簽發", "Not issued", "Não emitido"),
    "verdict.warning.title": (
        "标签有效，但请注意",
        "標籤有效，但請留意",
        "Valid label — take care",
        "Rótulo válido — atenção",
    ),
    "verdict.warning.explain": (
        "标签本身验证通过，但有些情况需要注意，请查看下方提示。",
        "標籤本身驗證通過，但有些情況需要留意，請查看下方提示。",
        "The label itself checks out, but something needs your attention; see the notes below.",
        "O rótulo em si é válido, mas há algo que requer atenção; veja as notas abaixo.",
    ),
    "verdict.warning.short": ("请注意", "請留意", "Take care", "Atenção"),
    "verdict.invalid.title": ("标签无效", "標籤無效", "Label not valid", "Rótulo inválido"),
    "verdict.invalid.explain": (
        "此碳标签未通过验证（签名、签发机构或公开日志记录有误），不可信赖。",
        "此碳標籤未能通過驗證（簽署、簽發機構或公開日誌記錄有誤），不可信賴。",
        "This carbon label failed verification (signature, issuer or public log record) "
        "and cannot be trusted.",
        "Este rótulo de carbono não passou na verificação (assinatura, entidade emissora ou "
        "registo público) e não é fiável.",
    ),
    "verdict.invalid.short": ("无效", "無效", "Invalid", "Inválido"),
    "verdict.suspect.title": (
        "请勿信任此标签",
        "請勿信任此標籤",
        "Do not trust this label",
        "Não confie neste rótulo",
    ),
    "verdict.suspect.explain": (
        "此标签的序列号从未签发，或其扫描记录显示标签已被复制；它可能是伪造的，请查看下方提示。",
        "此標籤的序號從未簽發，或其掃描記錄顯示標籤已被複製；它可能是偽造的，請查看下方提示。",
        "This label's serial number was never issued, or its scans show it has been copied; "
        "it may be counterfeit. See the notes below.",
        "O número de série deste rótulo nunca foi emitido, ou as leituras mostram que foi "
        "copiado; pode ser contrafeito. Veja as notas abaixo.",
    ),
    "verdict.suspect.short": ("请勿信任", "請勿信任", "Do not trust", "Não confie"),
    # --- status change (revoked / suspended) ---------------------------------------------
    "section.status_change.revocation": (
        "撤销记录",
        "撤銷記錄",
        "Revocation",
        "Revogação",
    ),
    "section.status_change.suspension": (
        "暂停记录",
        "暫停記錄",
        "Suspension",
        "Suspensão",
    ),
    "field.status_changed_at.revocation": (
        "撤销时间",
        "撤銷時間",
        "Revoked on",
        "Revogado em",
    ),
    "field.status_changed_at.suspension": (
        "暂停时间",
        "暫停時間",
        "Suspended on",
        "Suspenso em",
    ),
    "field.status_reason": ("原因", "原因", "Reason", "Motivo"),
    "status.no_reason": (
        "签发机构未说明原因",
        "簽發機構未說明原因",
        "The issuer gave no reason",
        "A entidade emissora não indicou o motivo",
    ),
    "status.logged": (
        "已记录在公开日志中，索引号 {index}",
        "已記錄於公開日誌，索引號 {index}",
        "Recorded in the public log at index {index}",
        "Inscrito no registo público com o índice {index}",
    ),
    # --- product ----------------------------------------------------------------------
    "section.product": ("产品", "產品", "Product", "Produto"),
    "field.label_number": ("标签编号", "標籤編號", "Label number", "Número do rótulo"),
    "field.product": ("产品名称", "產品名稱", "Product", "Produto"),
    "field.model": ("型号", "型號", "Model", "Modelo"),
    "field.gtin": ("商品条码（GTIN）", "商品條碼（GTIN）", "GTIN", "GTIN"),
    "field.batch": ("批次", "批次", "Batch", "Lote"),
    "field.category": ("产品类别", "產品類別", "Product category", "Categoria de produto"),
    "field.covers": ("适用范围", "適用範圍", "Covers", "Abrange"),
    "granularity.model": (
        "该型号的所有产品",
        "該型號的所有產品",
        "every unit of this model",
        "todas as unidades deste modelo",
    ),
    "granularity.batch": ("该批次的产品", "該批次的產品", "this batch", "este lote"),
    "granularity.item": ("仅此一件产品", "僅此一件產品", "this individual item", "esta unidade"),
    "category.room-air-conditioner": (
        "房间空调器",
        "房間空調機",
        "Room air conditioner",
        "Ar condicionado doméstico",
    ),
    "category.lithium-ion-battery": (
        "锂离子电池",
        "鋰離子電池",
        "Lithium-ion battery",
        "Bateria de iões de lítio",
    ),
    # --- footprint --------------------------------------------------------------------
    "section.footprint": (
        "产品碳足迹",
        "產品碳足跡",
        "Product carbon footprint",
        "Pegada de carbono do produto",
    ),
    "field.footprint": ("碳足迹", "碳足跡", "Footprint", "Pegada"),
    "field.declared_unit": ("声明单位", "聲明單位", "Declared unit", "Unidade declarada"),
    "footprint.per_unit": (
        "每 {amount} {unit}",
        "每 {amount} {unit}",
        "per {amount} {unit}",
        "por {amount} {unit}",
    ),
    "field.boundary": ("核算边界", "核算邊界", "System boundary", "Fronteira do sistema"),
    "boundary.cradle-to-gate": (
        "从摇篮到大门",
        "從搖籃到大門",
        "Cradle to gate",
        "Do berço ao portão",
    ),
    "boundary.cradle-to-gate.note": (
        "从原材料获取到产品出厂",
        "由原材料獲取至產品出廠",
        "from raw materials to the factory gate",
        "das matérias-primas à saída da fábrica",
    ),
    "boundary.cradle-to-grave": (
        "从摇篮到坟墓",
        "從搖籃到墳墓",
        "Cradle to grave",
        "Do berço ao túmulo",
    ),
    "boundary.cradle-to-grave.note": (
        "涵盖原材料、生产、运输、使用和废弃处理",
        "涵蓋原材料、生產、運輸、使用及棄置處理",
        "from raw materials through use to disposal",
        "das matérias-primas à utilização e ao fim de vida",
    ),
    "metric.pcfExcludingBiogenicUptake": (
        "不含生物源碳吸收",
        "不含生物源碳吸收",
        "excluding biogenic uptake",
        "excluindo a absorção biogénica",
    ),
    "metric.pcfIncludingBiogenicUptake": (
        "含生物源碳吸收",
        "包含生物源碳吸收",
        "including biogenic uptake",
        "incluindo a absorção biogénica",
    ),
    "unit.liter": ("升", "升", "litre", "litro"),
    "unit.kilogram": ("千克", "公斤", "kilogram", "quilograma"),
    "unit.cubic meter": ("立方米", "立方米", "cubic metre", "metro cúbico"),
    "unit.kilowatt hour": ("千瓦时", "千瓦時", "kilowatt-hour", "quilowatt-hora"),
    "unit.megajoule": ("兆焦", "兆焦耳", "megajoule", "megajoule"),
    "unit.ton kilometer": ("吨公里", "噸公里", "tonne-kilometre", "tonelada-quilómetro"),
    "unit.square meter": ("平方米", "平方米", "square metre", "metro quadrado"),
    "unit.piece": ("件", "件", "piece", "unidade"),
    "unit.hour": ("小时", "小時", "hour", "hora"),
    "unit.megabit second": ("兆比特秒", "兆位元秒", "megabit-second", "megabit-segundo"),
    "section.stages": (
        "生命周期各阶段排放",
        "生命週期各階段排放",
        "Emissions by life-cycle stage",
        "Emissões por fase do ciclo de vida",
    ),
    "stage.raw-material-acquisition": (
        "原材料获取",
        "原材料獲取",
        "Raw material acquisition",
        "Aquisição de matérias-primas",
    ),
    "stage.manufacturing": ("生产制造", "生產製造", "Manufacturing", "Fabrico"),
    "stage.distribution-and-transport": (
        "分销和运输",
        "分銷及運輸",
        "Distribution and transport",
        "Distribuição e transporte",
    ),
    "stage.use": ("使用", "使用", "Use", "Utilização"),
    "stage.end-of-life": ("废弃处理", "棄置處理", "End of life", "Fim de vida"),
    # --- grade ------------------------------------------------------------------------
    "section.grade": (
        "碳足迹等级",
        "碳足跡等級",
        "Carbon footprint grade",
        "Classe da pegada de carbono",
    ),
    "grade.value": ("{grade} 级", "{grade} 級", "Grade {grade}", "Classe {grade}"),
    "field.ratio": (
        "与基准值之比",
        "與基準值之比",
        "Ratio to benchmark",
        "Rácio face à referência",
    ),
    "field.benchmark": ("基准值", "基準值", "Benchmark", "Valor de referência"),
    "field.rule": ("分级规则", "分級規則", "Grading rule", "Regra de classificação"),
    # --- parties ----------------------------------------------------------------------
    "section.parties": (
        "签发与认证",
        "簽發與認證",
        "Issued and certified by",
        "Emissão e certificação",
    ),
    "field.issuer": ("签发机构", "簽發機構", "Issuer", "Entidade emissora"),
    "field.certification_body": (
        "认证机构",
        "認證機構",
        "Certification body",
        "Organismo de certificação",
    ),
    "field.manufacturer": ("生产企业", "生產企業", "Manufacturer", "Fabricante"),
    "field.uscc": (
        "统一社会信用代码",
        "統一社會信用代碼",
        "Unified Social Credit Code",
        "Código Unificado de Crédito Social",
    ),
    "field.markets": ("销售地区", "銷售地區", "Markets", "Mercados"),
    "field.sellers": ("授权销售商", "授權銷售商", "Authorised sellers", "Vendedores autorizados"),
    "region.CN-GD": ("广东", "廣東", "Guangdong", "Guangdong"),
    "region.HK": ("香港", "香港", "Hong Kong", "Hong Kong"),
    "region.MO": ("澳门", "澳門", "Macao", "Macau"),
    # --- validity and log ---------------------------------------------------------------
    "section.validity": ("有效期", "有效期", "Validity", "Validade"),
    "field.valid_from": ("生效日期", "生效日期", "Valid from", "Válido desde"),
    "field.valid_until": ("有效期至", "有效期至", "Valid until", "Válido até"),
    "section.log": ("公开日志", "公開日誌", "Public log", "Registo público"),
    "log.anchored": (
        "已记录在公开日志中，索引号 {index}",
        "已記錄於公開日誌，索引號 {index}",
        "Anchored in the public log at index {index}",
        "Inscrito no registo público com o índice {index}",
    ),
    "log.tree": (
        "日志规模 {size} 条，日志 {origin}",
        "日誌規模 {size} 條，日誌 {origin}",
        "tree size {size}, {origin}",
        "tamanho da árvore {size}, {origin}",
    ),
    "log.missing": (
        "未附公开日志记录",
        "未附公開日誌記錄",
        "No public log record came with this label",
        "Este rótulo não trouxe registo público",
    ),
    # --- recognition ------------------------------------------------------------------
    "section.recognition": (
        "粤港澳互认",
        "粵港澳互認",
        "Recognised in Hong Kong and Macao",
        "Reconhecimento em Hong Kong e Macau",
    ),
    "recognition.line": (
        "{jurisdiction}：{body} 认可此标签",
        "{jurisdiction}：{body} 認可此標籤",
        "{jurisdiction}: recognised by {body}",
        "{jurisdiction}: reconhecido por {body}",
    ),
    # --- checks -----------------------------------------------------------------------
    "section.checks": (
        "验证明细（{count} 项）",
        "驗證明細（{count} 項）",
        "Verification details ({count} checks)",
        "Detalhes da verificação ({count} verificações)",
    ),
    "checks.summary": (
        "通过 {passed} 项，未通过 {failed} 项，跳过 {skipped} 项",
        "通過 {passed} 項，未通過 {failed} 項，略過 {skipped} 項",
        "{passed} passed, {failed} failed, {skipped} skipped",
        "{passed} aprovadas, {failed} reprovadas, {skipped} não efetuadas",
    ),
    "check.structure": ("数据格式", "資料格式", "Data format", "Formato dos dados"),
    "check.proof": ("数字签名", "數碼簽署", "Digital signature", "Assinatura digital"),
    "check.issuer": (
        "签发机构资质",
        "簽發機構資格",
        "Issuer accreditation",
        "Acreditação da entidade emissora",
    ),
    "check.status": ("撤销/暂停状态", "撤銷／暫停狀態", "Revocation status", "Estado de revogação"),
    "check.validity": ("有效期", "有效期", "Validity period", "Prazo de validade"),
    "check.log": (
        "公开日志记录",
        "公開日誌記錄",
        "Public log record",
        "Inscrição no registo público",
    ),
    "check.grade": ("等级复核", "等級覆核", "Grade recomputation", "Recálculo da classe"),
    "check.binding": (
        "与商品信息一致",
        "與商品資料一致",
        "Match with the listing",
        "Correspondência com o anúncio",
    ),
    "outcome.passed": ("通过", "通過", "passed", "aprovada"),
    "outcome.failed": ("未通过", "未通過", "failed", "reprovada"),
    "outcome.skipped": ("跳过", "略過", "skipped", "não efetuada"),
    "reason.REVOKED": (
        "签发机构已撤销此凭证",
        "簽發機構已撤銷此憑證",
        "The issuer has revoked this credential",
        "A entidade emissora revogou esta credencial",
    ),
    "reason.SUSPENDED": (
        "签发机构已暂停此凭证",
        "簽發機構已暫停此憑證",
        "The issuer has suspended this credential",
        "A entidade emissora suspendeu esta credencial",
    ),
    "reason.EXPIRED": (
        "已超过有效期",
        "已超過有效期",
        "Past its validity period",
        "Fora do prazo de validade",
    ),
    "reason.NOT_YET_VALID": ("尚未生效", "尚未生效", "Not yet valid", "Ainda não está em vigor"),
    "reason.ISSUER_NOT_TRUSTED": (
        "签发机构不在信任名单上",
        "簽發機構不在信任名單上",
        "The issuer is not on the trust list",
        "A entidade emissora não consta da lista de confiança",
    ),
    "reason.DIGEST_MISMATCH": (
        "凭证与公开日志中的记录不符",
        "憑證與公開日誌中的記錄不符",
        "The credential does not match its public log record",
        "A credencial não corresponde à inscrição no registo público",
    ),
    "reason.STATUS_ENTRIES_MISSING": (
        "凭证缺少签发机构的撤销和暂停状态条目，无法被撤销",
        "憑證缺少簽發機構的撤銷及暫停狀態條目，無法被撤銷",
        "The credential lacks its issuer's revocation and suspension entries, so it cannot "
        "be revoked",
        "A credencial não tem as entradas de revogação e suspensão da entidade emissora, "
        "pelo que não pode ser revogada",
    ),
    "reason.STATUS_ENTRY_MISMATCH": (
        "凭证的撤销状态条目与公开日志中登记的不符",
        "憑證的撤銷狀態條目與公開日誌中登記的不符",
        "The credential's revocation entry is not the one recorded in the public log",
        "A entrada de revogação da credencial não é a inscrita no registo público",
    ),
    "reason.NO_RECEIPT": (
        "缺少公开日志回执",
        "缺少公開日誌收據",
        "No public log receipt",
        "Sem recibo do registo público",
    ),
    # --- warnings (misuse findings) ---------------------------------------------------
    "section.warnings": ("请注意", "請留意", "Please note", "Atenção"),
    "warning.too-many-scans": (
        "此序列号被扫描的次数异常多，标签可能被复制。",
        "此序號被掃描的次數異常地多，標籤可能被複製。",
        "This serial number has been scanned unusually often; the label may have been copied.",
        "Este número de série foi lido um número invulgar de vezes; o rótulo pode ter "
        "sido copiado.",
    ),
    "warning.impossible-travel": (
        "此序列号在短时间内于相距过远的地区被扫描，标签可能被复制。",
        "此序號在短時間內於相距過遠的地區被掃描，標籤可能被複製。",
        "This serial number was scanned in regions too far apart for the time between scans; "
        "the label may have been copied.",
        "Este número de série foi lido em regiões demasiado distantes para o tempo decorrido; "
        "o rótulo pode ter sido copiado.",
    ),
    "warning.outside-market": (
        "本次扫描发生在标签声明的销售地区以外。",
        "今次掃描發生於標籤聲明的銷售地區以外。",
        "Scanned outside the markets this label declares.",
        "Lido fora dos mercados declarados neste rótulo.",
    ),
    "warning.ghost-serial": (
        "此序列号从未为该标签签发，可能是伪造的。",
        "此序號從未為該標籤簽發，可能是偽造的。",
        "This serial number was never issued for this label; it may be counterfeit.",
        "Este número de série nunca foi emitido para este rótulo; pode ser contrafeito.",
    ),
    "warning.gtin-not-covered": (
        "此标签不涵盖所扫描商品的条码（GTIN）。",
        "此標籤不涵蓋所掃描商品的條碼（GTIN）。",
        "This label does not cover the scanned product's GTIN.",
        "Este rótulo não abrange o GTIN do produto lido.",
    ),
    "warning.check": ("验证提示", "驗證提示", "Verification note", "Nota da verificação"),
    "warning.other": ("其他提示", "其他提示", "Other note", "Outra nota"),
    # --- not issued ---------------------------------------------------------------------
    "notfound.advice": (
        "请勿相信该产品上的碳足迹声明。如已购买，请保留凭证并向市场监管部门或消费者组织反映。",
        "請勿相信該產品上的碳足跡聲明。如已購買，請保留單據並向消費者委員會或有關部門反映。",
        "Do not rely on any carbon claim on this product. If you bought it, keep the receipt "
        "and report it to the market regulator or a consumer council.",
        "Não confie em nenhuma alegação de carbono deste produto. Se o comprou, guarde o "
        "recibo e comunique o caso ao Conselho de Consumidores ou à autoridade competente.",
    ),
    "field.scanned_gtin": ("扫描的商品条码", "掃描的商品條碼", "Scanned GTIN", "GTIN lido"),
    "field.detail": ("技术细节", "技術細節", "Technical detail", "Detalhe técnico"),
    # --- a product code that several labels answer ------------------------------------
    "several.title": (
        "此商品有多个碳标签",
        "此商品有多個碳標籤",
        "Several carbon labels for this product",
        "Vários rótulos de carbono para este produto",
    ),
    "several.explain": (
        "这个条码只标识商品，不标识某一个碳标签。请在下面找到商品上印着的标签编号。",
        "這個條碼只標識商品，不標識某一個碳標籤。請在下面找到商品上印著的標籤編號。",
        "This code identifies the product, not one carbon label. Find the label number "
        "printed on your product below.",
        "Este código identifica o produto, não um rótulo de carbono. Procure abaixo o "
        "número do rótulo impresso no seu produto.",
    ),
    "several.advice": (
        "每个标签的状态各不相同：只有与商品上所印编号相同、且状态为“有效”的标签才可作依据。"
        "扫描标签本身的二维码可直接查看该标签。",
        "每個標籤的狀態各不相同：只有與商品上所印編號相同、且狀態為「有效」的標籤才可作依據。"
        "掃描標籤本身的二維碼可直接查看該標籤。",
        "Each label has its own status: rely only on the label whose number is printed on "
        "your product, and only if it is valid. Scanning the label's own QR code opens "
        "that label directly.",
        "Cada rótulo tem o seu próprio estado: confie apenas no rótulo cujo número está "
        "impresso no produto, e só se for válido. Ler o código QR do próprio rótulo abre "
        "esse rótulo diretamente.",
    ),
    "several.section": (
        "已签发的标签（{count}）",
        "已簽發的標籤（{count}）",
        "Labels issued ({count})",
        "Rótulos emitidos ({count})",
    ),
    "status.valid": ("有效", "有效", "Valid", "Válido"),
    "status.revoked": ("已撤销", "已撤銷", "Revoked", "Revogado"),
    "status.suspended": ("已暂停", "已暫停", "Suspended", "Suspenso"),
    "status.expired": ("已过期", "已過期", "Expired", "Caducado"),
    "status.invalid": ("无效", "無效", "Invalid", "Inválido"),
    "field.serial": ("序列号", "序號", "Serial number", "Número de série"),
    # --- links --------------------------------------------------------------------------
    "section.links": (
        "机器可读数据",
        "機器可讀數據",
        "Machine-readable data",
        "Dados legíveis por máquina",
    ),
    "link.bundle": (
        "标签凭证及日志回执（JSON）",
        "標籤憑證及日誌收據（JSON）",
        "Label credential and log receipt (JSON)",
        "Credencial do rótulo e recibo do registo (JSON)",
    ),
    "link.linkset": (
        "链接集（RFC 9264）",
        "連結集（RFC 9264）",
        "Linkset (RFC 9264)",
        "Conjunto de ligações (RFC 9264)",
    ),
    "link.log": (
        "公开日志检查点",
        "公開日誌檢查點",
        "Public log checkpoint",
        "Ponto de controlo do registo público",
    ),
    # --- badge --------------------------------------------------------------------------
    "badge.brand": ("碳标签", "碳標籤", "Carbon label", "Rótulo de carbono"),
    "badge.grade": ("等级", "等級", "Grade", "Classe"),
    "badge.status.revoked": (
        "签发机构已撤销，请勿依赖",
        "簽發機構已撤銷，請勿依賴",
        "Withdrawn by the issuer",
        "Retirado pela entidade emissora",
    ),
    "badge.status.suspended": (
        "签发机构已暂停，请勿依赖",
        "簽發機構已暫停，請勿依賴",
        "Suspended by the issuer",
        "Suspenso pela entidade emissora",
    ),
    "badge.title": (
        "碳标签 {label}：{verdict}",
        "碳標籤 {label}：{verdict}",
        "Carbon label {label}: {verdict}",
        "Rótulo de carbono {label}: {verdict}",
    ),
}

MESSAGES: Final[Mapping[str, Mapping[str, str]]] = {
    key: dict(zip(LANGUAGES, texts, strict=True)) for key, texts in _TABLE.items()
}


def has_message(key: str) -> bool:
    """Whether the table has ``key`` (for optional keys such as ``reason.<CODE>``)."""
    return key in MESSAGES


def t(lang: str, key: str, **values: object) -> str:
    """The message ``key`` in ``lang`` (an unsupported ``lang`` reads as ``zh-Hans``),
    its ``{name}`` placeholders filled from ``values``.

    Plain text: escape it for the markup it goes into. Raises ``KeyError`` for an
    unknown key or a missing placeholder value.
    """
    texts = MESSAGES[key]
    text = texts.get(lang, texts[DEFAULT_LANGUAGE])
    return text.format(**values) if values else text
