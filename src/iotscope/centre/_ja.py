"""Japanese for the centre's pages: column headings (the JSON API and the CSV keep the names;
a page in Japanese shows these, with the name itself as the heading's tooltip), and table and
chart titles."""

from __future__ import annotations

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


def title(text: str, lang: str) -> str:
    """A table's or chart's title in ``lang`` (as given where no translation is known)."""
    return TITLES_JA.get(text, text) if lang == "ja" else text
