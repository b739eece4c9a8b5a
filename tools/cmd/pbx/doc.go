// Command pbx runs the development PBX: a registrar with digest auth and a
// proxy between registered extensions, over UDP.
//
//	pbx -listen 127.0.0.1:5060 -realm deskphone -users 1001:pw1,1002:pw2 -ladder
//
// Without -users or -users-file it serves extensions 1001 to 1010 with
// passwords pw1001 to pw1010.
package main
