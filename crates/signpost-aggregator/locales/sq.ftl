site-name = Signpost
finder-title = Gjeni një grup komunitar
finder-intro = Grupe falas ose me kosto të ulët pranë jush: kafene bisede, kurse anglishteje, grupe ecjeje, mbështetje për refugjatët dhe më shumë.
language-label = Gjuha
language-button = Ndrysho gjuhën
exit = Dilni nga kjo faqe
exit-hint = Largohuni shpejt nga kjo faqe
privacy = Ky drejtori nuk ndan asgjë me Ministrinë e Brendshme, policinë apo ndonjë autoritet tjetër. Nuk ruan dhe nuk regjistron atë që kërkoni, dhe nuk përdor cookies.
skip = Shkoni te rezultatet
skip-main = Kalo te përmbajtja kryesore
postcode-label = Kodi postar
postcode-hint = Për shembull LS8 5AB. Mjafton edhe një zonë si LS8.
distance-label = Sa larg
distance-km = { $km } km
use-location = Përdor vendndodhjen time
needs-legend = Çfarë ju nevojitet?
need-free = Falas
need-childcare = Kujdes për fëmijët
need-evening-weekend = Mbrëmjeve ose në fundjavë
need-no-gp = Nuk duhet të jeni të regjistruar te mjeku (GP)
need-no-status = Nuk pyesin për statusin e imigracionit
need-self-referral = Mund t'i kontaktoj vetë
need-interpreting = Përkthyes
need-women = Vetëm për gra
language-legend = Grup që flet
any-language = Çdo gjuhë
kinds-legend = Lloji i grupit
search-button = Kërko
error-summary = Ka një problem
error-title = Gabim: { $title }
error-invalid-postcode = Shkruani një kod postar të vërtetë, si LS8 5AB
error-unknown-postcode = Nuk e gjetëm këtë kod postar. Kontrollojeni dhe provoni përsëri
error-group-gone = Ky grup nuk është më në listë. Kërkoni përsëri më poshtë.
error-no-page = Në këtë adresë nuk ka asnjë faqe. Kërkoni një grup më poshtë.
error-language = Zgjidhni një gjuhë nga lista
error-location = Nuk mundëm ta përdorim këtë vendndodhje. Shkruani një kod postar në vend të saj
error-other = Diçka në kërkim nuk është në rregull. Kontrollojeni dhe provoni përsëri
results-title = Rezultatet
results-count = { $count ->
    [0] Nuk u gjet asnjë grup
    [one] U gjet 1 grup
   *[other] U gjetën { $count } grupe
}
results-near = brenda { $km } km nga { $place }
no-results-hint = Provoni një distancë më të madhe ose më pak zgjedhje.
previous-page = Faqja e mëparshme
next-page = Faqja tjetër
page-of = Faqja { $page } nga { $pages }
distance-away = { $km } km larg
meets = Kur takohet
cost = Kosto
cost-free = Falas
cost-amount = £{ $amount } për seancë
cost-paid = Ka pagesë
languages = Gjuhët që flitet
contact = Si të bashkoheni
self-referral-yes = Mund t'i kontaktoni vetë.
self-referral-no = Kërkojini mjekut (GP) ose punonjësit ndërlidhës (Link Worker) t'ju referojë.
phone = Telefon
email = Email
website = Faqja e internetit
places = Vende
capacity-accepting = Pranojnë njerëz të rinj
capacity-places = { $places ->
    [one] 1 vend
   *[other] { $places } vende
}
capacity-not-accepting = Aktualisht nuk pranojnë njerëz të rinj
capacity-unknown = Nuk dihet
confirmed = konfirmuar { $ago }
last-confirmed = konfirmuar për herë të fundit { $ago }
ago-today = sot
ago-days = { $n ->
    [one] 1 ditë më parë
   *[other] { $n } ditë më parë
}
ago-weeks = { $n ->
    [one] 1 javë më parë
   *[other] { $n } javë më parë
}
good-to-know = Mirë të dini
fact-childcare = Ofrohet kujdes për fëmijët
fact-no-gp = Nuk nevojitet regjistrim te GP
fact-no-status = Nuk pyetet statusi i imigracionit
fact-interpreting-professional = Përkthyes profesionistë
fact-interpreting-volunteer = Përkthyes vullnetarë
fact-step-free = Hyrje pa shkallë
fact-travel-paid = Paguhen shpenzimet e udhëtimit
training = Trajnimi
training-verified = { $what }, verifikuar me { $issuer }
signed = Nënshkruar nga organizata; e verifikuar
how-checked = Si u kontrollua
more = Më shumë për këtë grup
card-link = Printoni një kartë referimi
card-title = Kartë referimi
card-print = Printoni këtë kartë
back = Kthehuni te kërkimi
organisation = Organizata
address = Ku
online = Në internet
day-mon = E hënë
day-tue = E martë
day-wed = E mërkurë
day-thu = E enjte
day-fri = E premte
day-sat = E shtunë
day-sun = E diel
category-conversation-cafe = Kafene bisede
category-esol = Kurse anglishteje
category-befriending = Shoqërim
category-gardening = Kopshtari
category-arts-crafts = Art dhe punë dore
category-peer-support = Mbështetje nga bashkëmoshatarët
category-refugee-support = Mbështetje për refugjatët dhe azilkërkuesit
category-parents-children = Prindër dhe fëmijë
category-sport-exercise = Sport dhe ushtrime
category-mental-wellbeing = Mirëqenie mendore
category-advice = Këshillim
category-digital-skills = Aftësi kompjuterike
category-employment-skills = Punë dhe aftësi
category-faith-community = Besim dhe komunitet
category-walking = Grup ecjeje
category-music-singing = Muzikë dhe këngë
category-lunch-club = Klub dreke
category-cooking = Gatim
category-womens-group = Grup grash
category-mens-group = Grup burrash
category-youth = Të rinj
category-older-people = Të moshuar
category-volunteering = Vullnetarizëm
list-separator = ,{" "}
clause-separator = ;{" "}
