site-name = Signpost
finder-title = یک گروه محلی پیدا کنید
finder-intro = گروه‌های رایگان یا کم‌هزینه نزدیک شما: کافه‌های گفتگو، کلاس‌های زبان انگلیسی، گروه‌های پیاده‌روی، حمایت از پناهندگان و غیره.
language-label = زبان
language-button = تغییر زبان
exit = خروج از این صفحه
exit-hint = سریع از این صفحه خارج شوید
privacy = این راهنما هیچ اطلاعاتی را با وزارت کشور، پلیس یا هیچ نهاد دیگری به اشتراک نمی‌گذارد. آنچه را جستجو می‌کنید ذخیره یا ثبت نمی‌کند و از کوکی استفاده نمی‌کند.
skip = رفتن به نتایج
skip-main = رفتن به محتوای اصلی
postcode-label = کد پستی
postcode-hint = برای مثال LS8 5AB. نوشتن منطقه مانند LS8 هم کافی است.
distance-label = فاصله
distance-km = { $km } کیلومتر
use-location = به جای آن از موقعیت من استفاده کن
needs-legend = به چه چیزی نیاز دارید؟
need-free = رایگان
need-childcare = نگهداری از کودک
need-evening-weekend = عصرها یا آخر هفته
need-no-gp = نیازی به ثبت‌نام نزد پزشک عمومی (GP) نیست
need-no-status = درباره وضعیت اقامت سؤال نمی‌کنند
need-self-referral = خودم می‌توانم با آنها تماس بگیرم
need-interpreting = مترجم
need-women = فقط برای زنان
language-legend = گروهی که به این زبان صحبت می‌کند
any-language = هر زبانی
kinds-legend = نوع گروه
search-button = جستجو
error-summary = مشکلی وجود دارد
error-title = خطا: { $title }
error-invalid-postcode = یک کد پستی درست وارد کنید، مانند LS8 5AB
error-unknown-postcode = این کد پستی پیدا نشد. آن را بررسی کنید و دوباره امتحان کنید
error-group-gone = این گروه دیگر در فهرست نیست. در پایین دوباره جستجو کنید.
error-no-page = در این نشانی صفحه‌ای نیست. در پایین یک گروه را جستجو کنید.
error-language = یک زبان از فهرست انتخاب کنید
error-location = نتوانستیم از این موقعیت استفاده کنیم. به جای آن یک کد پستی وارد کنید
error-other = چیزی در جستجو درست نیست. آن را بررسی کنید و دوباره امتحان کنید
results-title = نتایج
results-count = { $count ->
    [0] هیچ گروهی پیدا نشد
    [one] ۱ گروه پیدا شد
   *[other] { $count } گروه پیدا شد
}
results-near = در فاصله { $km } کیلومتری { $place }
no-results-hint = فاصله بیشتر یا گزینه‌های کمتری را امتحان کنید.
previous-page = صفحه قبل
next-page = صفحه بعد
page-of = صفحه { $page } از { $pages }
distance-away = { $km } کیلومتر فاصله
meets = زمان جلسات
cost = هزینه
cost-free = رایگان
cost-amount = { $amount } پوند برای هر جلسه
cost-paid = هزینه دارد
languages = زبان‌های گروه
contact = چطور عضو شوید
self-referral-yes = خودتان می‌توانید با آنها تماس بگیرید.
self-referral-no = از پزشک عمومی یا مددکار (Link Worker) بخواهید شما را معرفی کند.
phone = تلفن
email = ایمیل
website = وب‌سایت
places = ظرفیت
capacity-accepting = افراد جدید می‌پذیرند
capacity-places = { $places ->
    [one] ۱ جای خالی
   *[other] { $places } جای خالی
}
capacity-not-accepting = در حال حاضر افراد جدید نمی‌پذیرند
capacity-unknown = نامشخص
confirmed = تأیید شده { $ago }
last-confirmed = آخرین تأیید { $ago }
ago-today = امروز
ago-days = { $n ->
    [one] ۱ روز پیش
   *[other] { $n } روز پیش
}
ago-weeks = { $n ->
    [one] ۱ هفته پیش
   *[other] { $n } هفته پیش
}
good-to-know = خوب است بدانید
fact-childcare = نگهداری از کودک دارد
fact-no-gp = نیازی به ثبت‌نام نزد پزشک عمومی نیست
fact-no-status = درباره وضعیت اقامت سؤال نمی‌شود
fact-interpreting-professional = مترجم حرفه‌ای
fact-interpreting-volunteer = مترجم داوطلب
fact-step-free = ورودی بدون پله
fact-travel-paid = هزینه رفت و آمد پرداخت می‌شود
training = آموزش
training-verified = { $what }، تأییدشده توسط { $issuer }
signed = امضاشده توسط سازمان؛ تأیید شده
how-checked = چگونه بررسی شد
more = اطلاعات بیشتر درباره این گروه
card-link = چاپ کارت معرفی
card-title = کارت معرفی
card-print = این کارت را چاپ کنید
back = بازگشت به جستجو
organisation = سازمان
address = مکان
online = آنلاین
day-mon = دوشنبه
day-tue = سه‌شنبه
day-wed = چهارشنبه
day-thu = پنجشنبه
day-fri = جمعه
day-sat = شنبه
day-sun = یکشنبه
category-conversation-cafe = کافه گفتگو
category-esol = کلاس زبان انگلیسی
category-befriending = همراهی و دوستی
category-gardening = باغبانی
category-arts-crafts = هنر و صنایع دستی
category-peer-support = حمایت همتایان
category-refugee-support = حمایت از پناهندگان و پناه‌جویان
category-parents-children = والدین و کودکان
category-sport-exercise = ورزش
category-mental-wellbeing = سلامت روان
category-advice = مشاوره
category-digital-skills = مهارت‌های کامپیوتر
category-employment-skills = کار و مهارت‌ها
category-faith-community = دین و جامعه
category-walking = گروه پیاده‌روی
category-music-singing = موسیقی و آواز
category-lunch-club = باشگاه ناهار
category-cooking = آشپزی
category-womens-group = گروه زنان
category-mens-group = گروه مردان
category-youth = جوانان
category-older-people = سالمندان
category-volunteering = کار داوطلبانه
list-separator = ،{" "}
clause-separator = ؛{" "}
