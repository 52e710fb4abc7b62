site-name = Signpost
finder-title = ናይ ማሕበረሰብ ጉጅለ ድለዩ
finder-intro = ኣብ ጥቓኹም ዘለዉ ብናጻ ወይ ብሕሳር ዋጋ ጉጅለታት: ናይ ዕላል ካፈ፡ ናይ እንግሊዝኛ ትምህርቲ፡ ናይ ምዝዋር ጉጅለታት፡ ሓገዝ ስደተኛታትን ካልእን።
language-label = ቋንቋ
language-button = ቋንቋ ቀይሩ
exit = ካብዚ ገጽ ውጹ
exit-hint = ካብዚ ገጽ ቀልጢፍኩም ውጹ
privacy = እዚ መምርሒ ምስ ሆም ኦፊስ፡ ፖሊስ ወይ ካልእ ሰብ መዚ ዝኾነ ነገር ኣይካፈልን። ዝደለኹምዎ ኣይዕቅብን ኣይምዝግብን፡ ኩኪታት ከኣ ኣይጥቀምን።
skip = ናብ ውጽኢታት ኪዱ
skip-main = ናብ ቀንዲ ትሕዝቶ ኪዱ
postcode-label = ፖስታዊ ኮድ
postcode-hint = ንኣብነት LS8 5AB። ከም LS8 ዝበለ ከባቢ ጥራይ እውን ይኣክል።
distance-label = ርሕቀት
distance-km = { $km } ኪሎሜትር
use-location = ኣብ ክንድኡ ዘለኹዎ ቦታ ተጠቐሙ
needs-legend = እንታይ የድልየኩም?
need-free = ብናጻ
need-childcare = ክንክን ቆልዑ
need-evening-weekend = ምሸት ወይ ቀዳመ ሰንበት
need-no-gp = ኣብ ሓኪም (GP) ምምዝጋብ ኣየድልን
need-no-status = ብዛዕባ ኩነታት ስደት ኣይሓቱን
need-self-referral = ባዕለይ ክረኽቦም እኽእል
need-interpreting = ተርጓሚ
need-women = ንደቂ ኣንስትዮ ጥራይ
language-legend = እዚ ቋንቋ ዝዛረብ ጉጅለ
any-language = ዝኾነ ቋንቋ
kinds-legend = ዓይነት ጉጅለ
search-button = ድለ
error-summary = ጸገም ኣሎ
error-title = ጌጋ: { $title }
error-invalid-postcode = ቅኑዕ ፖስታዊ ኮድ ጽሓፉ፡ ከም LS8 5AB
error-unknown-postcode = እቲ ፖስታዊ ኮድ ኣይተረኽበን። ተመልከቱ እሞ ደጊምኩም ፈትኑ
error-group-gone = እዚ ጉጅለ ድሕሪ ሕጂ ኣብ ዝርዝር የለን። ኣብ ታሕቲ ደጊምኩም ድለዩ።
error-no-page = ኣብዚ ኣድራሻ ዝኾነ ገጽ የለን። ኣብ ታሕቲ ጉጅለ ድለዩ።
error-language = ካብቲ ዝርዝር ቋንቋ ምረጹ
error-location = ነዚ ቦታ ክንጥቀመሉ ኣይከኣልናን። ኣብ ክንድኡ ፖስታዊ ኮድ ጽሓፉ
error-other = ኣብቲ ምድላይ ዘይቅኑዕ ነገር ኣሎ። ተመልከቱ እሞ ደጊምኩም ፈትኑ
results-title = ውጽኢታት
results-count = { $count ->
    [0] ዝኾነ ጉጅለ ኣይተረኽበን
    [one] 1 ጉጅለ ተረኺቡ
   *[other] { $count } ጉጅለታት ተረኺቦም
}
results-near = ካብ { $place } ኣብ ውሽጢ { $km } ኪሎሜትር
no-results-hint = ዝዓበየ ርሕቀት ወይ ዝወሓደ ምርጫ ፈትኑ።
previous-page = ዝሓለፈ ገጽ
next-page = ዝቕጽል ገጽ
page-of = ገጽ { $page } ካብ { $pages }
distance-away = { $km } ኪሎሜትር ርሒቑ
meets = ዝራኸቡሉ ግዜ
cost = ዋጋ
cost-free = ብናጻ
cost-amount = £{ $amount } ንሓደ ኣኼባ
cost-paid = ክፍሊት ኣለዎ
languages = ዝዝረቡ ቋንቋታት
contact = ከመይ ትጽንበሩ
self-referral-yes = ባዕልኹም ክትረኽብዎም ትኽእሉ ኢኹም።
self-referral-no = GP ወይ ሊንክ ዎርከር ክሰድኹም ሕተቱ።
phone = ተሌፎን
email = ኢመይል
website = መርበብ ሓበሬታ
places = ቦታታት
capacity-accepting = ሓደስቲ ሰባት ይቕበሉ ኣለዉ
capacity-places = { $places ->
    [one] 1 ቦታ
   *[other] { $places } ቦታታት
}
capacity-not-accepting = ሕጂ ሓደስቲ ሰባት ኣይቕበሉን
capacity-unknown = ኣይፍለጥን
confirmed = ዝተረጋገጸ { $ago }
last-confirmed = ናይ መወዳእታ ምርግጋጽ { $ago }
ago-today = ሎሚ
ago-days = { $n ->
    [one] ቅድሚ 1 መዓልቲ
   *[other] ቅድሚ { $n } መዓልቲ
}
ago-weeks = { $n ->
    [one] ቅድሚ 1 ሰሙን
   *[other] ቅድሚ { $n } ሰሙን
}
good-to-know = ክትፈልጥዎ ዘለኩም
fact-childcare = ክንክን ቆልዑ ኣሎ
fact-no-gp = ኣብ GP ምምዝጋብ ኣየድልን
fact-no-status = ኩነታት ስደት ኣይሕተትን
fact-interpreting-professional = ሞያውያን ተርጐምቲ
fact-interpreting-volunteer = ወለንተኛታት ተርጐምቲ
fact-step-free = ብዘይ መደያይቦ ምእታው
fact-travel-paid = ወጻኢ መጓዓዝያ ይኽፈል
training = ስልጠና
training-verified = { $what }፡ ብ { $issuer } ዝተረጋገጸ
signed = ብውድብ ዝተፈርመ፤ ዝተረጋገጸ
how-checked = ከመይ ከም ዝተረጋገጸ
more = ብዛዕባ እዚ ጉጅለ ዝያዳ
card-link = ናይ ምሕላፍ ካርድ ሕተሙ
card-title = ናይ ምሕላፍ ካርድ
card-print = እዚ ካርድ ሕተሙ
back = ናብ ምድላይ ተመለሱ
organisation = ውድብ
address = ቦታ
online = ብመስመር
day-mon = ሰኑይ
day-tue = ሰሉስ
day-wed = ረቡዕ
day-thu = ሓሙስ
day-fri = ዓርቢ
day-sat = ቀዳም
day-sun = ሰንበት
category-conversation-cafe = ናይ ዕላል ካፈ
category-esol = ናይ እንግሊዝኛ ትምህርቲ
category-befriending = ምቅርራብ
category-gardening = ሕርሻ ጀርዲን
category-arts-crafts = ስነ ጥበብን ኢደ ጥበብን
category-peer-support = ሓገዝ መዛኑ
category-refugee-support = ሓገዝ ስደተኛታትን ሓተትቲ ዑቕባን
category-parents-children = ወለድን ቆልዑን
category-sport-exercise = ስፖርትን ምንቅስቓስን
category-mental-wellbeing = ኣእምሮኣዊ ጥዕና
category-advice = ምኽሪ
category-digital-skills = ክእለት ኮምፒተር
category-employment-skills = ስራሕን ክእለትን
category-faith-community = እምነትን ማሕበረሰብን
category-walking = ጉጅለ ምዝዋር
category-music-singing = ሙዚቃን ደርፍን
category-lunch-club = ክለብ ምሳሕ
category-cooking = ምብሳል
category-womens-group = ጉጅለ ደቂ ኣንስትዮ
category-mens-group = ጉጅለ ደቂ ተባዕትዮ
category-youth = መንእሰያት
category-older-people = ዓበይቲ ዓዲ
category-volunteering = ወለንተኝነት
list-separator = ፡{" "}
clause-separator = ፤{" "}
