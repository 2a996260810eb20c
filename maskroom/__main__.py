from maskroom.launcher import run

run()
