"""Japanese for the centre's pages: column headings (the JSON API and the CSV keep the names;
a page in Japanese shows these, with the name itself as the heading's tooltip), and table and
chart titles."""

from __future__ import annotations

from iotscope.centre._i18n import Text

#: column name -> Japanese heading
COLUMNS_JA: dict[str, str] = {
    "at": "時刻", "both": "両方", "bots": "ボット数", "c2": "C2", "c2s": "C2数",
    "cf_high": "反実仮想 上限", "cf_low": "反実仮想 下限", "chain": "移行の連鎖",
    "chosen": "採用", "ci_high": "95%区間 上限", "ci_low": "95%区間 下限",
    "ci_high_with_drift": "上限（変動込み）", "ci_low_with_drift": "下限（変動込み）",
    "comparison": "比較対象", "count": "件数", "counterfactual": "反実仮想",
    "cum_share": "累積割合", "cve": "CVE", "cves": "CVE", "cvss": "CVSS", "day": "日",
    "devices": "機器数", "difference": "差", "direction": "望ましい方向", "effect": "効果",
    "either": "いずれか", "end": "終了", "estimate": "推定値", "evidence": "根拠",
    "expires": "有効期限", "family": "ファミリー", "first_seen": "初観測", "fitted": "当てはめ値",
    "hac_lags": "HACラグ", "high": "上限", "id": "ID", "infected": "感染", "isp": "ISP",
    "isp_a": "ISP A", "isp_b": "ISP B", "isps": "ISP数", "item": "項目", "jaccard": "Jaccard係数",
    "kev": "KEV", "kev_cve": "KEV該当CVE", "kind": "種別", "kpi": "KPI", "last_seen": "最終観測",
    "latest_national": "最新値（全国）", "latest_period": "最新期間", "level": "レベル",
    "level_change": "水準の変化", "lineage": "系統", "lineages": "系統数", "low": "下限",
    "lower_95": "95%下限", "measure": "指標", "met": "達成", "method": "手法", "model": "機種",
    "n": "件数", "name_en": "名称（英語）", "name_ja": "名称", "not_estimable": "推定不能",
    "observed": "観測値", "only_isp": "単独で観測したISP", "outcome": "結果",
    "outdated": "最新でないファームウェア", "owner": "担当", "p_value": "p値", "period": "期間",
    "phase": "局面", "placebo_rms": "プラセボRMS", "post_days": "介入後日数",
    "pre_days": "介入前日数", "pref_code": "都道府県コード", "prefecture": "都道府県",
    "rank": "順位", "reason": "理由", "registered": "登録日", "registration": "登録番号",
    "round": "調査回", "scope": "範囲", "severity": "深刻度", "share": "割合",
    "share_of_all_infections": "全感染に占める割合", "slope_change": "傾きの変化",
    "source": "出所", "start": "開始", "status": "状態", "target": "目標", "treated": "処置群",
    "unit": "単位", "unseen": "未観測", "upper_95": "95%上限", "value": "値", "vendor": "メーカー",
    "version": "バージョン", "what": "内容", "your_bots": "自社のボット",
    "weak": "脆弱な認証", "vulnerable": "脆弱なファームウェア", "labelled": "ラベル取得",
    "infected_rate": "感染率", "infected_low": "感染率 下限", "infected_high": "感染率 上限",
    "weak_rate": "脆弱な認証の割合", "weak_low": "脆弱な認証 下限", "weak_high": "脆弱な認証 上限",
    "vulnerable_rate": "脆弱なファームウェアの割合", "vulnerable_low": "脆弱なファームウェア 下限",
    "vulnerable_high": "脆弱なファームウェア 上限",
}  # fmt: skip


def heading(column: str, lang: str) -> str:
    """The heading of ``column`` in ``lang`` (the name itself where none is known)."""
    return COLUMNS_JA.get(column, column) if lang == "ja" else column


#: table and chart title -> Japanese (titles made from data, such as a day, are shown as given)
TITLES_JA: dict[str, str] = {
    "Bots (per ISP) taking orders from each C2, by day":
        "各C2の指令を受けるボット数（ISP別・日別）",
    "Bots and their C2s over time": "ボットとC2の推移",
    "Bots held by each lineage per day": "系統ごとのボット数（日別）",
    "Bots moving from one C2 to the next": "C2から次のC2へ移るボット",
    "Bots per lineage": "系統ごとのボット数",
    "CVEs per firmware": "ファームウェアごとのCVE",
    "Daily series around the intervention, with the counterfactual and its 95 % band":
        "介入前後の日次系列（反実仮想と95%区間）",
    "Devices per day": "日別の機器数",
    "Devices per vendor": "メーカー別の機器数",
    "Devices with vulnerable firmware": "脆弱なファームウェアの機器",
    "Each KPI per scope and period against its target": "KPIの推移と目標（範囲・期間別）",
    "Each lineage's C2s in the order they appeared": "系統ごとのC2（出現順）",
    "Estimated totals": "推定総数",
    "Every day, all prefectures shown": "全期間・全都道府県",
    "Field outcomes by JC-STAR label": "JC-STARラベル別の実環境での結果",
    "Firmware versions": "ファームウェアのバージョン",
    "How many C2s and lineages exactly k ISPs see": "ちょうどk社のISPが観測したC2と系統の数",
    "How many ISPs see each lineage": "各系統を観測したISPの数",
    "Infected devices by ISP": "ISP別の感染機器",
    "Infected devices by prefecture": "都道府県別の感染機器",
    "Infected devices per 10,000 subscribers": "加入者1万あたりの感染機器",
    "Infected devices per firmware": "ファームウェア別の感染機器",
    "Infected devices per round": "調査回ごとの感染機器",
    "Infected devices per round and model": "調査回・機種ごとの感染機器",
    "Infection rate by label": "ラベル別の感染率",
    "Infections by model (Pareto)": "機種別の感染（パレート図）",
    "Infections by vendor (Pareto)": "メーカー別の感染（パレート図）",
    "Interventions and their measured effect (relative change, 95 % interval)":
        "対策とその効果（相対変化・95%区間）",
    "JC-STAR registrations": "JC-STAR登録",
    "KPIs, their targets and the latest national value": "KPI・目標・全国の最新値",
    "Labelled minus unlabelled (Newcombe 95 % interval)": "ラベルあり−なし（Newcombe 95%区間）",
    "Lineages (C2s that commanded the same bots)": "系統（同じボットを指揮したC2）",
    "Lineages by ISP": "ISP別の系統",
    "Lineages only one ISP sees": "1社のISPだけが観測した系統",
    "Median C2 lifetime after sharing": "共有後のC2存続期間（中央値）",
    "Median time from detection to sharing": "検知から共有までの時間（中央値）",
    "Members of each lineage": "系統の構成C2",
    "Models": "機種",
    "Pairwise overlap of what two ISPs see (Jaccard)": "ISP間の観測の重なり（Jaccard係数）",
    "Share of all infections (Pareto)": "全感染に占める割合（パレート図）",
    "Share of notified devices remediated within 30 days": "通知後30日以内に対処された割合",
    "Summary": "概要",
    "Survey rounds": "調査回",
    "The chosen intervention's estimate": "選択した対策の推定値",
    "Total C2s and lineages (seen + unseen), 95% intervals":
        "C2と系統の総数（観測＋未観測、95%区間）",
    "Trend over survey rounds": "調査回ごとの推移",
    "Value of one more vantage point": "観測点を1つ増やす価値",
    "Vantage coverage: ISPs contributing flow observations":
        "観測網の広さ: フロー観測を提供するISP",
    "Weak-login devices per 10,000 subscribers": "加入者1万あたりの脆弱な認証の機器",
    "Weak-login rate by label": "ラベル別の脆弱な認証の割合",
    "c2 x ISP": "C2 × ISP",
    "lineage x ISP": "系統 × ISP",
}  # fmt: skip


def title(value: str, lang: str) -> str:
    """A table's or chart's title in ``lang`` (as given where no translation is known)."""
    return text(value, lang)


def text(value: str, lang: str) -> str:
    """Anything a view says in words, in ``lang``: a :class:`~iotscope.centre._i18n.Text` by
    its template (its values translated where they are words the catalogue knows, such as a
    kind, and kept where they are data), a plain string by itself; as given where no
    translation is known (the test walking every view in Japanese finds those)."""
    if lang != "ja":
        return str(value)
    if isinstance(value, Text):
        ja = value.ja or JA.get(value.template)
        if ja is None:
            return str(value)
        return ja.format(**{k: text(v, lang) if isinstance(v, str) else v
                            for k, v in value.values.items()})  # fmt: skip
    return JA.get(value, value)


#: notes and titles made from data (the :func:`~iotscope.centre._i18n.say` template ->
#: Japanese template with the same fields), and notes said as they are
NOTES_JA: dict[str, str] = {
    # regions
    "{kind} devices by prefecture": "都道府県別の{kind}機器",
    "{kind} devices by ISP": "ISP別の{kind}機器",
    "By prefecture on {day}": "{day}の都道府県別",
    "By ISP and prefecture on {day}": "{day}のISP・都道府県別",
    "Day {day}; colour: {kind} devices (?kind=weak|vulnerable|infected, ?day=YYYY-MM-DD).":
        "{day}、色は{kind}の機器数（?kind=weak|vulnerable|infected、?day=YYYY-MM-DD で切替）。",
    "Counts as each ISP shares them per prefecture: weak and vulnerable from the survey, "
    "infected from the ISP's own detection.":
        "各ISPが都道府県別に共有した件数です。脆弱な認証・脆弱なファームウェアは調査から、"
        "感染はISP自身の検知によります。",
    "One prefecture (JIS {pref}); without ?pref= the whole country.":
        "1都道府県のみ（JIS {pref}）。?pref= を外すと全国です。",
    # botnets
    "Lineages join C2s whose bots moved from one to the next or held both at once.":
        "系統は、ボットがあるC2から次のC2へ移った、または同時に両方に属したC2をつなぎます。",
    "Bot counts are {isp}'s own; other ISPs appear only as how many ISPs see a C2.":
        "ボット数は{isp}自身のものです。他のISPは、各C2を観測したISPの数としてのみ表れます。",
    "Each ISP is a capture source; a C2 or lineage seen by few ISPs hints at others seen by "
    "none.":
        "各ISPを捕獲源とみなします。少数のISPにしか観測されないC2や系統は、"
        "どのISPにも観測されないものがあることを示唆します。",
    "chao2: Chao's lower bound from those seen by one and two ISPs, log-normal 95% interval.":
        "chao2: 1社・2社のISPだけが観測した数によるChaoの下限推定（対数正規95%区間）。",
    "Log-linear models over the ISPs' capture histories, profile likelihood 95% intervals; "
    "the one with the least AIC is marked chosen; empty: not identified.":
        "ISPの捕獲履歴に対する対数線形モデル（プロファイル尤度95%区間）。AICが最小のモデルを"
        "採用と表示します。空欄は識別できないことを示します。",
    "'only X': what would be lost without ISP X (leave-one-out); 'one more ISP': Chao's "
    "extrapolation of new items from one more ISP like these.":
        "「only X」: ISP Xがなければ失われる数（1社除外）。「one more ISP」: 同様のISPを"
        "1社増やしたときに新たに見つかる数のChaoによる外挿。",
    "Lineages are counted as found, and a lineage whose C2s share no seen bot is found split "
    "in parts; the chosen lineage estimate is therefore a bracket: from the found lineages (too "
    "many) to their chains per family (too few), the widest of the two intervals "
    "(benchmarks/results/capture.json: lineage_bracket against lineage_true).":
        "系統は見つかったとおりに数えます。観測されたボットを共有しないC2からなる系統は"
        "分かれて見つかるため、採用する系統数の推定は幅で示します。見つかった系統（多すぎる側）"
        "からファミリーごとの連鎖（少なすぎる側）まで、二つの区間の広い方を取ります"
        "（benchmarks/results/capture.json の lineage_bracket と lineage_true を参照）。",
    # makers
    "No survey round in the store yet.": "まだ調査回のデータがありません。",
    "Round {round} (first finding {day}).": "調査回 {round}（最初の検出 {day}）。",
    "{half} vendor(s) hold half of the infections, {most} hold 80 %.":
        "感染の半分を{half}社、80%を{most}社のメーカーが占めます。",
    "Infected: the darknet telescope saw the address scan as a bot (mirai/iot) during the "
    "round's window, which runs to the next round's first finding. C2 contacts name bots by "
    "ISP-keyed pseudonyms, not addresses, so they are not joined to devices.":
        "感染: 調査回の期間（次の調査回の最初の検出まで）に、ダークネット観測がそのアドレスの"
        "ボットとしてのスキャン（mirai/iot）を捉えたもの。C2との通信はアドレスではなくISPごとの"
        "鍵による仮名でボットを示すため、機器とは結び付けません。",
    "Shares are of the infections among the devices you may see; the maker view's "
    "share_of_all_infections compares a vendor with every vendor.":
        "割合は、閲覧できる機器の感染に占める割合です。メーカー別ビューの "
        "share_of_all_infections は全メーカーとの比較です。",
    "Vendor {vendor!r}: {devices} devices in the round.":
        "メーカー {vendor!r}: この調査回の機器 {devices} 台。",
    "share_of_all_infections: this vendor's infected devices over every vendor's in the round.":
        "share_of_all_infections: この調査回における全メーカーの感染機器に占める、"
        "このメーカーの感染機器の割合。",
    "outdated: the firmware is older than the vendor's current release (empty: unknown).":
        "outdated: ファームウェアがメーカーの最新版より古いこと（空欄は不明）。",
    "Products are matched on normalised vendor and model; a product's highest level counts.":
        "製品は正規化したメーカー名と機種で照合し、製品の最も高いレベルを採用します。",
    "Rates with Wilson 95 % intervals over devices; devices of one model are not independent, "
    "so read small label groups with care (see products).":
        "割合は機器単位のWilson 95%区間付きです。同じ機種の機器は独立ではないため、"
        "小さなラベル群は慎重に読んでください（製品の表を参照）。",
    "{n} device(s) without vendor or model could not be matched and are left out.":
        "メーカーまたは機種が不明で照合できなかった機器 {n} 台は除外しています。",
    # effect and KPIs
    "effect = (bot-days, or contacts, of the treated unit over the post window) / (the same "
    "without the intervention) - 1; the counterfactual is the comparison series times the "
    "treated/comparison ratio's pre-period path, its trend for an ISP, its level for a "
    "lineage (segmented regression on the log ratio, "
    "95 % interval from the larger of the HAC and the conventional standard error); the "
    "interval 'with drift', the one to read, also allows for the treated unit leaving its "
    "path by itself as much as untreated units do (placebo fits on them, true effect 0)":
        "効果 =（介入後の期間における処置群のボット日数または通信数）÷"
        "（介入がなかった場合の同じ量）− 1。反実仮想は、比較系列に介入前の処置群/比較群の比の"
        "推移（ISPはその傾向、系統はその水準）を当てはめたものです（対数比の"
        "分割回帰。95%区間はHACと通常の標準誤差の大きい方から）。読むべき「変動込み」の区間は、"
        "処置群が介入と無関係に経路を外れる分も、介入のない単位（真の効果0のプラセボ）と同程度に"
        "見込みます。",
    "no intervention recorded that this caller may see":
        "閲覧できる対策は記録されていません。",
    "{id}: not estimable: {reason}": "{id}: 推定できません: {reason}",
    "{reason} (pre {pre} days, post {post} days)": "{reason}（介入前 {pre} 日、介入後 {post} 日）",
    "{kind} {id}": "{kind} {id}",
    "the blocked C2s were contacted on too few days: all the ISP's C2 contacts are used":
        "遮断したC2への通信日数が少なすぎるため、そのISPのすべてのC2通信を用いています。",
    "fewer than two ISPs compare: fitted on the treated series alone":
        "比較できるISPが2社未満のため、処置群の系列だけで推定しています。",
    "a KPI, scope or period without a value has no data (never read as zero)":
        "値のないKPI・範囲・期間はデータなしです（ゼロとは読みません）。",
}  # fmt: skip

#: single words a view passes as values or units (kinds, units of kpis.toml, reasons)
WORDS_JA: dict[str, str] = {
    "Infected": "感染", "Weak": "脆弱な認証の", "Vulnerable": "脆弱なファームウェアの",
    "infected": "感染", "weak": "脆弱な認証", "vulnerable": "脆弱なファームウェア",
    "c2_takedown": "C2テイクダウン", "blocklist": "ブロックリスト",
    "bgp_blackhole": "BGPブラックホール", "notice_campaign": "注意喚起キャンペーン",
    "days": "日", "minutes": "分", "devices": "台", "share": "割合",
    "per 10,000 subscribers": "契約者1万あたり", "share of registered ISPs": "登録ISPに占める割合",
    "too few days around the start": "開始前後の日数が足りません",
    "the counterfactual is empty over the post window": "介入後の期間の反実仮想が空です",
    "no ISP reported a contact with the C2s taken down":
        "テイクダウンしたC2との通信を報告したISPがありません",
    "national": "全国",
}  # fmt: skip

#: every catalogue, looked up by :func:`text`
JA: dict[str, str] = {**TITLES_JA, **NOTES_JA, **WORDS_JA}
