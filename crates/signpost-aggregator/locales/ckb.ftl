site-name = Signpost
finder-title = گرووپێکی کۆمەڵایەتی بدۆزەرەوە
finder-intro = گرووپی بێبەرامبەر یان هەرزان لە نزیکت: کافێی گفتوگۆ، وانەی ئینگلیزی، گرووپی پیاسە، پشتگیری پەنابەران و زیاتر.
language-label = زمان
language-button = گۆڕینی زمان
exit = لەم پەڕەیە دەربچۆ
exit-hint = بە خێرایی لەم پەڕەیە دەربچۆ
privacy = ئەم ڕێنیشاندەرە هیچ شتێک لەگەڵ وەزارەتی ناوخۆ، پۆلیس یان هیچ دەزگایەکی تر بەش ناکات. ئەوەی بەدوایدا دەگەڕێیت هەڵناگرێت و تۆمار ناکات، و کووکی بەکارناهێنێت.
skip = بڕۆ بۆ ئەنجامەکان
skip-main = بڕۆ بۆ ناوەڕۆکی سەرەکی
postcode-label = کۆدی پۆستە
postcode-hint = بۆ نموونە LS8 5AB. ناوچەیەکیش وەک LS8 بەسە.
distance-label = دووری
distance-km = { $km } کیلۆمەتر
use-location = لە جیاتی ئەوە شوێنەکەم بەکاربهێنە
needs-legend = پێویستت بە چییە؟
need-free = بێبەرامبەر
need-childcare = چاودێری منداڵ
need-evening-weekend = ئێواران یان کۆتایی هەفتە
need-no-gp = پێویست ناکات لای دکتۆر (GP) تۆمار بیت
need-no-status = پرسیار لەسەر باری کۆچ ناکەن
need-self-referral = خۆم دەتوانم پەیوەندییان پێوە بکەم
need-interpreting = وەرگێڕ
need-women = تەنها بۆ ئافرەتان
language-legend = گرووپێک کە بەم زمانە قسە دەکات
any-language = هەر زمانێک
kinds-legend = جۆری گرووپ
search-button = گەڕان
error-summary = کێشەیەک هەیە
error-title = هەڵە: { $title }
error-invalid-postcode = کۆدی پۆستەیەکی دروست بنووسە، وەک LS8 5AB
error-unknown-postcode = ئەو کۆدی پۆستەیە نەدۆزرایەوە. بیپشکنە و دووبارە هەوڵ بدەرەوە
error-group-gone = ئەم گرووپە ئیتر لە لیستەکەدا نییە. لە خوارەوە دووبارە بگەڕێ.
error-no-page = لەم ناونیشانەدا هیچ پەڕەیەک نییە. لە خوارەوە بۆ گرووپێک بگەڕێ.
error-language = زمانێک لە لیستەکە هەڵبژێرە
error-location = نەمانتوانی ئەو شوێنە بەکاربهێنین. لە جیاتی ئەوە کۆدی پۆستە بنووسە
error-other = شتێک لە گەڕانەکەدا دروست نییە. بیپشکنە و دووبارە هەوڵ بدەرەوە
results-title = ئەنجامەکان
results-count = { $count ->
    [0] هیچ گرووپێک نەدۆزرایەوە
    [one] ١ گرووپ دۆزرایەوە
   *[other] { $count } گرووپ دۆزرانەوە
}
results-near = لە ماوەی { $km } کیلۆمەتر لە { $place }
no-results-hint = دوورییەکی زیاتر یان هەڵبژاردنی کەمتر تاقی بکەرەوە.
previous-page = پەڕەی پێشوو
next-page = پەڕەی داهاتوو
page-of = پەڕەی { $page } لە { $pages }
distance-away = { $km } کیلۆمەتر دوور
meets = کاتی کۆبوونەوە
cost = تێچوو
cost-free = بێبەرامبەر
cost-amount = £{ $amount } بۆ هەر دانیشتنێک
cost-paid = پارەی تێدەچێت
languages = ئەو زمانانەی قسەیان پێدەکرێت
contact = چۆن بەشداری بکەیت
self-referral-yes = دەتوانیت خۆت پەیوەندییان پێوە بکەیت.
self-referral-no = داوا لە GP یان لینک وۆرکەر بکە تۆ ڕەوانە بکات.
phone = تەلەفۆن
email = ئیمەیڵ
website = ماڵپەڕ
places = شوێن
capacity-accepting = کەسی نوێ وەردەگرن
capacity-places = { $places ->
    [one] ١ شوێن
   *[other] { $places } شوێن
}
capacity-not-accepting = ئێستا کەسی نوێ وەرناگرن
capacity-unknown = نەزانراو
confirmed = پشتڕاستکراوەتەوە { $ago }
last-confirmed = دوایین پشتڕاستکردنەوە { $ago }
ago-today = ئەمڕۆ
ago-days = { $n ->
    [one] ١ ڕۆژ لەمەوبەر
   *[other] { $n } ڕۆژ لەمەوبەر
}
ago-weeks = { $n ->
    [one] ١ هەفتە لەمەوبەر
   *[other] { $n } هەفتە لەمەوبەر
}
good-to-know = باشە بزانیت
fact-childcare = چاودێری منداڵ هەیە
fact-no-gp = تۆمارکردن لای GP پێویست نییە
fact-no-status = پرسیار لەسەر باری کۆچ ناکرێت
fact-interpreting-professional = وەرگێڕی پیشەیی
fact-interpreting-volunteer = وەرگێڕی خۆبەخش
fact-step-free = چوونەژوورەوە بێ پلیکانە
fact-travel-paid = تێچووی هاتوچۆ دەدرێت
training = ڕاهێنان
training-verified = { $what }، لەلایەن { $issuer } پشتڕاستکراوەتەوە
signed = لەلایەن ڕێکخراوەکەوە واژۆکراوە؛ پشتڕاستکراوەتەوە
how-checked = چۆن پشکنرا
more = زیاتر دەربارەی ئەم گرووپە
card-link = کارتی ڕەوانەکردن چاپ بکە
card-title = کارتی ڕەوانەکردن
card-print = ئەم کارتە چاپ بکە
back = گەڕانەوە بۆ گەڕان
organisation = ڕێکخراو
address = شوێن
online = ئۆنلاین
day-mon = دووشەممە
day-tue = سێشەممە
day-wed = چوارشەممە
day-thu = پێنجشەممە
day-fri = هەینی
day-sat = شەممە
day-sun = یەکشەممە
category-conversation-cafe = کافێی گفتوگۆ
category-esol = وانەی ئینگلیزی
category-befriending = هاوڕێیەتی
category-gardening = باخەوانی
category-arts-crafts = هونەر و دەستکاری
category-peer-support = پشتگیری هاوتا
category-refugee-support = پشتگیری پەنابەران و داواکارانی پەنابەری
category-parents-children = دایک و باوک و منداڵ
category-sport-exercise = وەرزش
category-mental-wellbeing = تەندروستی دەروونی
category-advice = ئامۆژگاری
category-digital-skills = شارەزایی کۆمپیوتەر
category-employment-skills = کار و شارەزایی
category-faith-community = ئایین و کۆمەڵگا
category-walking = گرووپی پیاسە
category-music-singing = مۆسیقا و گۆرانی
category-lunch-club = یانەی نانی نیوەڕۆ
category-cooking = چێشتلێنان
category-womens-group = گرووپی ئافرەتان
category-mens-group = گرووپی پیاوان
category-youth = گەنجان
category-older-people = بەساڵاچووان
category-volunteering = خۆبەخشی
list-separator = ،{" "}
clause-separator = ؛{" "}
